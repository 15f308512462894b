import pytest
from shop.inventory import Inventory


@pytest.fixture(scope="session")
def catalogue() -> dict[str, int]:
    return {"apple": 30, "pear": 45, "plum": 12}


@pytest.fixture
def inventory(catalogue: dict[str, int]) -> Inventory:
    return Inventory(dict.fromkeys(catalogue, 10))
