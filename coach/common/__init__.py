"""Small helpers several features need (files, HTML pages, plots).

Why a package of its own: a feature that borrowed a helper from another feature (the
interview's charts from the batch report, the BM25 index from the corpus catalog) was
tied to it for no reason of its domain. Nothing here imports a feature.
"""
