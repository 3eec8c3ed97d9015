"""Model builders, one module per technique (keras-tuner HyperModels).

Importing this package does not import Keras; the technique modules do.
"""
