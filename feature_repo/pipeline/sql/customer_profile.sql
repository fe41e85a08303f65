-- Customer profile: one row per customer, valid from the account's opening.
-- Parameters: $customers (parquet path).
SELECT
    customer_id,
    account_open_time AS event_timestamp,
    home_country,
    age_band,
    credit_limit,
    account_open_time,
    account_open_time AS created
FROM read_parquet($customers)
ORDER BY customer_id
