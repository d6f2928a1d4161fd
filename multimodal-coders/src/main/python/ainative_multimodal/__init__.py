"""Python side of ainative's multimodal types: see logical_types (Beam Python schema logical
types for tensors, images, audio, embeddings and object references)."""
