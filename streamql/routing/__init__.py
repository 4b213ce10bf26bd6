"""Moving items between threads, processes and machines: queues, fan-in and out, TCP."""
