"""factory_boy factories for the domain; frameworks are built through the service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from rounds.enums import IndicatorMethod
from rounds.services import IndicatorData, framework_create, round_create
from schools.enums import RankingGroup, SchoolKind
from schools.models import School, StaffMembership


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):  # noqa: ANN001, ANN201 - factory hook
        for role in extracted or ():
            self.groups.add(Group.objects.get(name=role))


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


def small_tree(*, leaves_per_indicator: int = 2) -> list[IndicatorData]:
    """A valid four-dimension tree of 100 points: each dimension 25 points,
    one indicator of 25, split evenly over its observation points; the first
    observation point of dimension A is a veto item."""
    rows: list[IndicatorData] = []
    per_leaf = Decimal(25) / leaves_per_indicator
    for dimension in "ABCD":
        rows.append(
            IndicatorData(
                code=dimension,
                parent_code=None,
                title_zh=f"维度{dimension}",
                max_points=Decimal(25),
            )
        )
        rows.append(
            IndicatorData(
                code=f"{dimension}1",
                parent_code=dimension,
                title_zh=f"指标{dimension}1",
                max_points=Decimal(25),
                tags=("compliant_operation",),
            )
        )
        for index in range(1, leaves_per_indicator + 1):
            rows.append(
                IndicatorData(
                    code=f"{dimension}1.{index}",
                    parent_code=f"{dimension}1",
                    title_zh=f"观测点{dimension}1.{index}",
                    max_points=per_leaf,
                    method=IndicatorMethod.DOCUMENT_REVIEW,
                    is_veto=(dimension == "A" and index == 1),
                    tags=("compliant_operation",),
                )
            )
    return rows


_framework_counter = iter(range(1, 1_000_000))


def make_framework(*, name: str | None = None, leaves_per_indicator: int = 2, actor=None):  # noqa: ANN001, ANN201
    return framework_create(
        actor=actor,
        name=name or f"测试指标体系{next(_framework_counter)}",
        policy_title="测试办法",
        valid_from=dt.date(2025, 1, 1),
        valid_to=dt.date(2029, 12, 31),
        indicators=small_tree(leaves_per_indicator=leaves_per_indicator),
    )


_round_counter = iter(range(1, 1_000_000))


def make_round(*, framework=None, schools=(), actor=None, **kwargs):  # noqa: ANN001, ANN003, ANN201
    return round_create(
        actor=actor,
        framework=framework or make_framework(),
        name=kwargs.pop("name", f"测试轮次{next(_round_counter)}"),
        cycle_start=kwargs.pop("cycle_start", 2025),
        cycle_end=kwargs.pop("cycle_end", 2027),
        schools=schools,
        **kwargs,
    )
