"""What keeps a run safe around the data: the run lock, watches on sources and
connections, input limits, disk space, passwords, signing keys and the log file."""
