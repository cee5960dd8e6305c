"""Subscriber counts for publishers: distinct fetchers of each feed per day, privacy first.

``agents`` recognises aggregators by user agent, ``counter`` counts in memory on the request
path and flushes to the database, ``rollup`` closes past days (throwing their salt and hashes
away), and ``queries`` reads the table for the API and the CLI.
"""
