"""Reports that reach the PACS: DICOM objects written next to the report, and DICOMweb.

* :mod:`~medxai.pacs.sources` reads the source images' headers and checks they can carry
  DICOM outputs;
* :mod:`~medxai.pacs.maps` builds a map object (Parametric Map or FRACTIONAL
  Segmentation) per source image and method, :mod:`~medxai.pacs.capture` a Secondary
  Capture overlay per image, :mod:`~medxai.pacs.sr` one TID 1500 Comprehensive SR per
  study; :mod:`~medxai.pacs.outputs` puts them together and reads each one back;
* :mod:`~medxai.pacs.dicomweb` talks QIDO-RS, WADO-RS and STOW-RS (credentials from
  :mod:`~medxai.pacs.credentials`), and :mod:`~medxai.pacs.study` retrieves a study into a
  temporary folder for the report.

The rules (which map object when, UIDs, credentials) are documented in ``docs/pacs.md``.
"""
