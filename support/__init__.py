"""What the tests and the benchmarks both use: drawings to send, hostile uploads, and a
real server to send them to. Neither imports the other; both import this."""
