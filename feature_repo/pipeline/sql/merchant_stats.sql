-- Merchant statistics: one snapshot per merchant per day D, as of D 00:00 UTC,
-- over the 30 days before it ([D - 30 days, D)).
-- The chargeback rate counts only chargebacks whose label had ARRIVED before D
-- (label_time < D), divided by the merchant's transactions in the same 30 days:
-- a label not yet known at the snapshot never leaks into it.
-- Inputs: the views `transactions`, `labels`, `merchants`; parameters $lookback_start,
-- $start, $end and $last_day (= $end - 1 day). Portable subset: see customer_activity.sql.
WITH days AS (
    SELECT unnest(generate_series($lookback_start, $last_day, INTERVAL 1 DAY)) AS day
),
grid AS (
    SELECT m.merchant_id, m.category, d.day
    FROM merchants AS m CROSS JOIN days AS d
),
daily_tx AS (
    -- Whole cents, summed as integers: exact in any order, so both engines agree.
    SELECT merchant_id, date_trunc('day', transaction_time) AS day,
           count(*) AS n, sum(CAST(round(amount * 100) AS BIGINT)) AS cents
    FROM transactions
    WHERE transaction_time >= $lookback_start AND transaction_time < $end
    GROUP BY merchant_id, date_trunc('day', transaction_time)
),
daily_cb AS (
    SELECT merchant_id, date_trunc('day', label_time) AS day, count(*) AS chargebacks
    FROM labels
    WHERE is_fraud = 1 AND label_time >= $lookback_start AND label_time < $end
    GROUP BY merchant_id, date_trunc('day', label_time)
),
filled AS (
    SELECT g.merchant_id, g.category, g.day,
           coalesce(t.n, 0) AS n, coalesce(t.cents, 0) AS cents,
           coalesce(c.chargebacks, 0) AS chargebacks
    FROM grid AS g
    LEFT JOIN daily_tx AS t ON t.merchant_id = g.merchant_id AND t.day = g.day
    LEFT JOIN daily_cb AS c ON c.merchant_id = g.merchant_id AND c.day = g.day
),
rolled AS (
    SELECT merchant_id, category, day,
           coalesce(sum(n) OVER prior30, 0) AS txn_count_30d,
           coalesce(sum(cents) OVER prior30, 0) AS cents_30d,
           coalesce(sum(chargebacks) OVER prior30, 0) AS chargebacks_30d
    FROM filled
    WINDOW prior30 AS (
        PARTITION BY merchant_id ORDER BY day ROWS BETWEEN 30 PRECEDING AND 1 PRECEDING
    )
)
SELECT
    merchant_id,
    day AS event_timestamp,
    category AS merchant_category,
    CAST(txn_count_30d AS BIGINT) AS merchant_txn_count_30d,
    CASE WHEN txn_count_30d > 0 THEN round(CAST(cents_30d AS DOUBLE) / (100 * txn_count_30d), 6) END
        AS merchant_amount_mean_30d,
    CAST(chargebacks_30d AS BIGINT) AS merchant_chargebacks_30d,
    round(CAST(chargebacks_30d AS DOUBLE) / greatest(txn_count_30d, 1), 6) AS merchant_chargeback_rate_30d,
    day AS created
FROM rolled
WHERE day >= $start
ORDER BY event_timestamp, merchant_id
