"""crema.v1: messages (features_pb2) and the Features service stub (features_pb2_grpc)."""
