-- Customer activity: one row per transaction, describing the customer's history in
-- windows that end at that transaction (inclusive: [t - window, t]).
-- Inputs: the view `transactions`; parameters $lookback_start, $start, $end.
-- Rows are produced for $start <= t < $end; transactions back to $lookback_start
-- (= $start - 30 days) feed the windows, so a range builds the same rows alone or
-- as part of a longer range.
-- Portable subset (DuckDB dialect, run as is by DuckDB and transpiled to Spark SQL by
-- feature_repo/pipeline/portable.py): no window inheritance, no DISTINCT in a window,
-- arithmetic in BIGINT or DOUBLE (never DECIMAL literals), epoch_us for times.
WITH tx AS (
    -- Amounts are whole cents: windowed sums run on integers, so they are exact and
    -- the same whatever order or partition the rows are summed in (a float sum
    -- landed on either side of a rounding boundary between a full and an
    -- incremental build).
    SELECT customer_id, merchant_id, transaction_time, CAST(round(amount * 100) AS BIGINT) AS cents
    FROM transactions
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
        -- The whole-second times of the hour's transactions: the request-time transform
        -- counts those still inside the hour before a later transaction (a true window
        -- count; 1 + txn_count_1h would keep counting transactions that left the hour).
        list(CAST(epoch_us(date_trunc('second', transaction_time)) / 1000000 AS DOUBLE)) OVER w1h
            AS txn_times_1h,
        count(*) OVER w24h AS txn_count_24h,
        count(*) OVER w7d AS txn_count_7d,
        round(CAST(sum(cents) OVER w7d AS DOUBLE) / 100, 6) AS amount_sum_7d,
        round(CAST(sum(cents) OVER w7d AS DOUBLE) / (100 * count(*) OVER w7d), 6) AS amount_mean_7d,
        CASE WHEN count(*) OVER w7d > 1 THEN round(sqrt(greatest(CAST(0 AS DOUBLE),
            (CAST(sum(cents * cents) OVER w7d AS DOUBLE)
             - power(CAST(sum(cents) OVER w7d AS DOUBLE), 2) / count(*) OVER w7d)
            / (count(*) OVER w7d - 1))) / 100, 6) END AS amount_std_7d,
        round(CAST(sum(cents) OVER w30d AS DOUBLE) / 100, 6) AS amount_sum_30d,
        round(CAST(sum(cents) OVER w30d AS DOUBLE) / (100 * count(*) OVER w30d), 6) AS amount_mean_30d,
        CASE WHEN count(*) OVER w30d > 1 THEN round(sqrt(greatest(CAST(0 AS DOUBLE),
            (CAST(sum(cents * cents) OVER w30d AS DOUBLE)
             - power(CAST(sum(cents) OVER w30d AS DOUBLE), 2) / count(*) OVER w30d)
            / (count(*) OVER w30d - 1))) / 100, 6) END AS amount_std_30d,
        CAST(array_length(list_distinct(list(merchant_id) OVER w7d)) AS BIGINT) AS distinct_merchants_7d,
        -- Only a previous transaction within 30 days counts, so the value never
        -- depends on data older than the lookback.
        CASE
            WHEN lag(transaction_time) OVER byTime >= transaction_time - INTERVAL 30 DAY
            THEN round((epoch_us(transaction_time) - epoch_us(lag(transaction_time) OVER byTime)) / 1000000, 6)
        END AS seconds_since_prev_txn
    FROM tx
    WINDOW
        byTime AS (PARTITION BY customer_id ORDER BY transaction_time),
        w1h AS (PARTITION BY customer_id ORDER BY transaction_time
                RANGE BETWEEN INTERVAL 1 HOUR PRECEDING AND CURRENT ROW),
        w24h AS (PARTITION BY customer_id ORDER BY transaction_time
                 RANGE BETWEEN INTERVAL 24 HOUR PRECEDING AND CURRENT ROW),
        w7d AS (PARTITION BY customer_id ORDER BY transaction_time
                RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW),
        w30d AS (PARTITION BY customer_id ORDER BY transaction_time
                 RANGE BETWEEN INTERVAL 30 DAY PRECEDING AND CURRENT ROW)
)
SELECT *, event_timestamp AS created
FROM windowed
WHERE event_timestamp >= $start
ORDER BY event_timestamp, customer_id
