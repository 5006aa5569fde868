"""Audits of a classifier and its explanations: the library behind the audit notebooks.

- :mod:`medxai.audit.subgroups`: AUROC per subgroup (cast / no cast) with CIs;
- :mod:`medxai.audit.cast`: a simple cast segmentation, and the saliency mass on a cast;
- :mod:`medxai.audit.counterfactual`: images with the cast painted out;
- :mod:`medxai.audit.verdict`: the explicit rule that names a cast shortcut;
- :mod:`medxai.audit.plaster`: the cast audit of one model, from images to the verdict;
- :mod:`medxai.audit.localisation`: localisation metrics against ground truth, with CIs;
- :mod:`medxai.audit.samples`: images of a split with their truth, model calls in batches;
- :mod:`medxai.audit.methods`: every saliency method with small settings for CPU runs;
- :mod:`medxai.audit.demo_models`: phantom data and small demo classifiers, cached on
  disk by a hash of their configuration;
- :mod:`medxai.audit.plots`, :mod:`medxai.audit.tables`: the notebooks' figures and
  text tables.
"""
