"""Generated protobuf and gRPC code for Crema's API (tools/generate-grpc writes crema/v1)."""
