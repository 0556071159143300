"""The package's numbers are cryptcom.h's: every CRYPTCOM_* value defined there is in the
package under the same name, with the same value."""
import os
import re

import cryptcom
from cryptcom import constants

from conftest import required_path


def header_values():
    path = os.path.join(required_path("CRYPTCOM_SOURCE_DIR"), "bindings", "c", "include",
                        "cryptcom.h")
    values = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"#define CRYPTCOM_([A-Z0-9_]+) \(?(-?\d+)\)?\s*(/\*.*)?$", line.strip())
            if m and not m.group(1).startswith("VERSION"):
                values[m.group(1)] = int(m.group(2))
    return values


def test_every_header_constant_is_in_the_package():
    values = header_values()
    assert len(values) == 83  # the options, flows, ciphers, policies, events and reasons
    for name, value in values.items():
        assert getattr(cryptcom, name) == value, name


def test_every_own_option_has_a_type():
    values = header_values()
    options = {v for k, v in values.items() if 10000 < v < 10100}
    named = set(constants.OPTION_NAMES.values()) | set(constants.AUTH_OPTION_NAMES.values())
    assert options == named
