-- Merchant statistics: one snapshot per merchant per day D, as of D 00:00 UTC,
-- over the 30 days before it ([D - 30 days, D)).
-- The chargeback rate counts only chargebacks whose label had ARRIVED before D
-- (label_time < D), divided by the merchant's transactions in the same 30 days:
-- a label not yet known at the snapshot never leaks into it.
-- Parameters: $transactions, $labels, $merchants (parquet paths), $lookback_start, $start, $end.
WITH days AS (
    SELECT range AS day FROM range($lookback_start, $end, INTERVAL 1 DAY)
),
grid AS (
    SELECT m.merchant_id, m.category, d.day
    FROM read_parquet($merchants) AS m CROSS JOIN days AS d
),
daily_tx AS (
    SELECT merchant_id, date_trunc('day', transaction_time) AS day,
           count(*) AS n, sum(amount) AS amount
    FROM read_parquet($transactions)
    WHERE transaction_time >= $lookback_start AND transaction_time < $end
    GROUP BY ALL
),
daily_cb AS (
    SELECT merchant_id, date_trunc('day', label_time) AS day, count(*) AS chargebacks
    FROM read_parquet($labels)
    WHERE is_fraud = 1 AND label_time >= $lookback_start AND label_time < $end
    GROUP BY ALL
),
filled AS (
    SELECT g.merchant_id, g.category, g.day,
           coalesce(t.n, 0) AS n, coalesce(t.amount, 0) AS amount,
           coalesce(c.chargebacks, 0) AS chargebacks
    FROM grid AS g
    LEFT JOIN daily_tx AS t USING (merchant_id, day)
    LEFT JOIN daily_cb AS c USING (merchant_id, day)
),
rolled AS (
    SELECT merchant_id, category, day,
           coalesce(sum(n) OVER prior30, 0) AS txn_count_30d,
           coalesce(sum(amount) OVER prior30, 0) AS amount_30d,
           coalesce(sum(chargebacks) OVER prior30, 0) AS chargebacks_30d
    FROM filled
    WINDOW prior30 AS (
        PARTITION BY merchant_id ORDER BY day ROWS BETWEEN 30 PRECEDING AND 1 PRECEDING
    )
)
SELECT
    merchant_id,
    CAST(day AS TIMESTAMPTZ) AS event_timestamp,
    category AS merchant_category,
    CAST(txn_count_30d AS BIGINT) AS merchant_txn_count_30d,
    CASE WHEN txn_count_30d > 0 THEN round(amount_30d / txn_count_30d, 6) END
        AS merchant_amount_mean_30d,
    CAST(chargebacks_30d AS BIGINT) AS merchant_chargebacks_30d,
    round(chargebacks_30d / greatest(txn_count_30d, 1), 6) AS merchant_chargeback_rate_30d,
    CAST(day AS TIMESTAMPTZ) AS created
FROM rolled
WHERE day >= $start
ORDER BY event_timestamp, merchant_id
