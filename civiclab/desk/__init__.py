"""The committee's desk: a web page where an ethics committee reads, compares and signs reviews."""
