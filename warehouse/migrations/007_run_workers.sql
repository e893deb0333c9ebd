-- Where a run's work ran: the task runner and its workers.
ALTER TABLE runs ADD COLUMN task_runner VARCHAR;
ALTER TABLE runs ADD COLUMN workers VARCHAR[];
COMMENT ON COLUMN runs.task_runner IS 'Task runner of an ingest run: default (a local process pool), or dask with the cluster address where one was given.';
COMMENT ON COLUMN runs.workers IS 'Where fetch and extraction ran: in-process, the local pool processes, or the addresses of the Dask workers that ran batches.';
