"""ramancam: Raman spectra classified by a shallow 1-D CNN, with maps of the bands that drove
each decision (Fukuhara et al., Anal. Chim. Acta 1087 (2019) 11-19).

Import the pieces from their modules: ``ramancam.io``, ``ramancam.preprocess``,
``ramancam.simulate``, ``ramancam.model``, ``ramancam.train``, ``ramancam.explain``,
``ramancam.metrics``, ``ramancam.baselines``, ``ramancam.bundle``.
"""

from .errors import RamancamError, RamancamWarning
from .spectra import Spectra

# the one source: pyproject.toml reads it (tool.setuptools.dynamic). Between releases a
# development version (PEP 440 ".devN") of the next one: every output of the work after 0.2.0
# had said "0.2.0" (CHANGELOG); from a git checkout outputs record the commit too
__version__ = "0.3.0.dev0"

__all__ = ["RamancamError", "RamancamWarning", "Spectra", "__version__"]
