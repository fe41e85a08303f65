-- Customer activity: one row per transaction, describing the customer's history in
-- windows that end at that transaction (inclusive: [t - window, t]).
-- Parameters: $transactions (parquet path), $lookback_start, $start, $end.
-- Rows are produced for $start <= t < $end; transactions back to $lookback_start
-- (= $start - 30 days) feed the windows, so a range builds the same rows alone or
-- as part of a longer range.
WITH tx AS (
    SELECT customer_id, merchant_id, transaction_time, amount
    FROM read_parquet($transactions)
    WHERE transaction_time >= $lookback_start AND transaction_time < $end
),
windowed AS (
    SELECT
        customer_id,
        transaction_time AS event_timestamp,
        -- Whole seconds: Feast's online store keeps timestamps to the second, so the
        -- offline value must too, or the transforms would differ between the two.
        date_trunc('second', transaction_time) AS last_txn_time,
        count(*) OVER w1h AS txn_count_1h,
        count(*) OVER w24h AS txn_count_24h,
        count(*) OVER w7d AS txn_count_7d,
        round(sum(amount) OVER w7d, 6) AS amount_sum_7d,
        round(avg(amount) OVER w7d, 6) AS amount_mean_7d,
        round(stddev_samp(amount) OVER w7d, 6) AS amount_std_7d,
        round(sum(amount) OVER w30d, 6) AS amount_sum_30d,
        round(avg(amount) OVER w30d, 6) AS amount_mean_30d,
        round(stddev_samp(amount) OVER w30d, 6) AS amount_std_30d,
        count(DISTINCT merchant_id) OVER w7d AS distinct_merchants_7d,
        -- Only a previous transaction within 30 days counts, so the value never
        -- depends on data older than the lookback.
        CASE
            WHEN lag(transaction_time) OVER byTime >= transaction_time - INTERVAL 30 DAY
            THEN epoch(transaction_time - lag(transaction_time) OVER byTime)
        END AS seconds_since_prev_txn
    FROM tx
    WINDOW
        byTime AS (PARTITION BY customer_id ORDER BY transaction_time),
        w1h AS (byTime RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW),
        w24h AS (byTime RANGE BETWEEN INTERVAL 24 HOUR PRECEDING AND CURRENT ROW),
        w7d AS (byTime RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW),
        w30d AS (byTime RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND CURRENT ROW)
)
SELECT *, event_timestamp AS created
FROM windowed
WHERE event_timestamp >= $start
ORDER BY event_timestamp, customer_id
