"""Running the pipeline over an archive: settings, the runner, executors, cache, spool, progress."""
