"""Factories for the domain, one module per app; this package re-exports the most used.

- ``core``: users and their roles;
- ``schools``: schools, staff memberships;
- ``rounds``: frameworks (through the service), rounds, moving a round to a phase
  (``round_to_phase``, through ``round_phase_advance``), groups, assignments, evidence;
- ``scoring``: scored rounds (sheets and scores), computed results;
- ``publication``: public notice, objections, publishing after a notice;
- ``rectification``: published rounds with the rectifications of unqualified schools.
"""

from tests.factories.core import UserFactory, add_roles, role_user
from tests.factories.rounds import (
    make_framework,
    make_round,
    round_in_phase,
    round_to_phase,
    small_tree,
)
from tests.factories.schools import SchoolFactory, StaffMembershipFactory, staff_of

__all__ = [
    "SchoolFactory",
    "StaffMembershipFactory",
    "UserFactory",
    "add_roles",
    "make_framework",
    "make_round",
    "role_user",
    "round_in_phase",
    "round_to_phase",
    "small_tree",
    "staff_of",
]
