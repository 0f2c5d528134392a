"""Package layout (metadata lives in pyproject.toml): the code under src/, and the repository's
top-level conf/ shipped inside it as ``xperience_suite.conf`` so an installed package finds its
Hydra configs without a checkout (machine-local conf/local/ stays out)."""

from setuptools import find_namespace_packages, setup

setup(
    packages=find_namespace_packages("src", include=["xperience_suite*"]) + ["xperience_suite.conf"],
    package_dir={"": "src", "xperience_suite.conf": "conf"},
    package_data={"xperience_suite": ["**/*.json"], "xperience_suite.conf": ["**/*.yaml"]},
    exclude_package_data={"xperience_suite.conf": ["local/*"]},
)
