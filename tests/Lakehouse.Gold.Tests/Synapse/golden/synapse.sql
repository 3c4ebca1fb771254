-- Synapse serverless SQL: views over the lakehouse's silver and gold Delta tables.
-- Written by `lakehouse synapse script`; run it with `lakehouse synapse deploy`, or batch by batch (GO ends a batch)
-- in Synapse Studio or sqlcmd. Idempotent: objects that exist are kept, views are replaced (CREATE OR ALTER VIEW).

IF DB_ID(N'lakehouse') IS NULL
    CREATE DATABASE [lakehouse] COLLATE Latin1_General_100_BIN2_UTF8;
GO

USE [lakehouse];
GO

IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE name = N'##MS_DatabaseMasterKey##')
    CREATE MASTER KEY;
GO

IF NOT EXISTS (SELECT * FROM sys.database_scoped_credentials WHERE name = N'lakehouse_managed_identity')
    CREATE DATABASE SCOPED CREDENTIAL [lakehouse_managed_identity] WITH IDENTITY = 'Managed Identity';
GO

IF EXISTS (SELECT * FROM sys.external_data_sources WHERE name = N'lakehouse_lake')
    AND NOT EXISTS (
        SELECT * FROM sys.external_data_sources AS s
        JOIN sys.database_scoped_credentials AS c ON c.credential_id = s.credential_id
        WHERE s.name = N'lakehouse_lake' AND s.location = N'https://lakeacct.dfs.core.windows.net/lake/prod/' AND c.name = N'lakehouse_managed_identity')
    DROP EXTERNAL DATA SOURCE [lakehouse_lake];
IF NOT EXISTS (SELECT * FROM sys.external_data_sources WHERE name = N'lakehouse_lake')
    CREATE EXTERNAL DATA SOURCE [lakehouse_lake]
    WITH (LOCATION = N'https://lakeacct.dfs.core.windows.net/lake/prod/', CREDENTIAL = [lakehouse_managed_identity]);
GO

IF SCHEMA_ID(N'silver') IS NULL EXEC (N'CREATE SCHEMA [silver]');
IF SCHEMA_ID(N'gold') IS NULL EXEC (N'CREATE SCHEMA [gold]');
GO

-- silver.weblogs: 16 columns, partitioned by [event_date]
CREATE OR ALTER VIEW [silver].[weblogs]
AS
SELECT *
FROM OPENROWSET(
    BULK N'silver/weblogs',
    DATA_SOURCE = N'lakehouse_lake',
    FORMAT = 'DELTA'
)
WITH (
    [event_id] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [timestamp] DATETIME2(7),
    [page_url] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [tti_ms] FLOAT,
    [status] INT,
    [bronze_offset] BIGINT,
    [event_hour] SMALLINT,
    [retries] SMALLINT,
    [sample_rate] REAL,
    [is_bot] BIT,
    [price] DECIMAL(10,2),
    [raw] VARBINARY(MAX),
    [attrs] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [tags] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [counters] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [event_date] DATE
) AS [rows];
GO

-- gold.page_performance_daily: 11 columns, partitioned by [event_date]
CREATE OR ALTER VIEW [gold].[page_performance_daily]
AS
SELECT *
FROM OPENROWSET(
    BULK N'gold/page_performance_daily',
    DATA_SOURCE = N'lakehouse_lake',
    FORMAT = 'DELTA'
)
WITH (
    [event_date] DATE,
    [page_url] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,
    [events] BIGINT,
    [sessions] BIGINT,
    [tti_avg_ms] FLOAT,
    [tti_p50_ms] FLOAT,
    [tti_p95_ms] FLOAT,
    [ttar_avg_ms] FLOAT,
    [ttar_p50_ms] FLOAT,
    [ttar_p95_ms] FLOAT,
    [error_rate] FLOAT
) AS [rows];
GO
