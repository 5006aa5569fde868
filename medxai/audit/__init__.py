"""Shortcut audits: the library behind the audit notebooks.

- :mod:`medxai.audit.bootstrap`: percentile bootstrap CIs of any statistic;
- :mod:`medxai.audit.subgroups`: AUROC per subgroup (cast / no cast) with CIs;
- :mod:`medxai.audit.cast`: a simple cast segmentation and the saliency mass on a cast;
- :mod:`medxai.audit.counterfactual`: images with the cast painted out;
- :mod:`medxai.audit.verdict`: the explicit rule that names a shortcut;
- :mod:`medxai.audit.demo_models`: phantom data and small demo classifiers, cached on
  disk by a hash of their configuration;
- :mod:`medxai.audit.samples`: phantom images with their truth, ready for a model.
"""
