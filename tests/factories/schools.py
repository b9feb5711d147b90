"""Schools and the staff who work for them."""

from __future__ import annotations

from typing import Any

import factory

from core.enums import Role
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, StaffMembership
from tests.factories.core import UserFactory


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    code = factory.Sequence(lambda n: f"S{n:03d}")
    name_zh = factory.Sequence(lambda n: f"测试技工学校{n}")
    name_en = factory.Sequence(lambda n: f"Test Technical School {n}")
    kind = SchoolKind.PRIVATE_TECHNICAL_SCHOOL
    ranking_group = RankingGroup.PRIVATE
    district = "湖里区"


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    school = factory.SubFactory(SchoolFactory)


def staff_of(school: School | None, username: str, **fields: Any) -> Any:
    """A school-staff user working for ``school`` (for a new school when None)."""
    user = UserFactory(username=username, roles=[Role.SCHOOL_STAFF], **fields)
    if school is None:
        StaffMembershipFactory(user=user)
    else:
        StaffMembershipFactory(user=user, school=school)
    return user
