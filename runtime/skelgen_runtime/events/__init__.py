"""Event streams: the record formats of ring and perf buffers (decoded from bytes,
no syscalls), the stream protocol both share (callbacks, batches, iteration, asyncio),
and a poller over several streams.  The map classes that own the buffers are in
:mod:`..maps`."""
