"""The fraud-scoring API of the seed, used as the example service rolled by the local target."""
