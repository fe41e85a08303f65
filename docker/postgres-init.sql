-- The Feast SQL registry uses the default database (feast_registry);
-- MLflow's tracking server keeps its runs and model registry in its own database.
CREATE DATABASE mlflow OWNER skewless;
