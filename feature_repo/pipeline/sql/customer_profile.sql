-- Customer profile: one row per customer, valid from the account's opening.
-- Inputs: the view `customers`.
-- Its event time is one second before the opening: the training join asks for the
-- state as of one microsecond before each transaction, and the online store keeps
-- whole seconds, so a transaction at the very instant its account opens sees its
-- profile offline as it does online.
SELECT
    customer_id,
    account_open_time - INTERVAL 1 SECOND AS event_timestamp,
    home_country,
    age_band,
    credit_limit,
    account_open_time,
    account_open_time - INTERVAL 1 SECOND AS created
FROM customers
ORDER BY customer_id
