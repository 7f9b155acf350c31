"""A refused input in plain words: each problem names the field as the API does, no pydantic."""

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from core.schemas import problem_words, problems_text


class Example(BaseModel):
    search_text: str = Field(max_length=5)
    amount: float = Field(ge=0)
    days: list[int] = Field(min_length=1)

    @field_validator("days")
    @classmethod
    def _increasing(cls, days: list[int]) -> list[int]:
        if days != sorted(days):
            raise ValueError("days must be increasing")
        return days


def refused(**values) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Example(**{"search_text": "ok", "amount": 1, "days": [1]} | values)
    return caught.value


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"search_text": "too long"}, "searchText: can be at most 5 characters."),
        ({"amount": -1}, "amount: must be at least 0."),
        ({"amount": "lots"}, "amount: must be a number."),
        ({"days": []}, "days: needs at least one entry."),
        ({"days": [3, 1]}, "days: days must be increasing."),
        ({"days": ["x"]}, "days.0: must be a whole number."),
    ],
)
def test_each_problem_names_its_field_in_plain_words(values, said):
    assert problems_text(refused(**values)) == said


def test_a_missing_field_is_required():
    with pytest.raises(ValidationError) as caught:
        Example(amount=1, days=[1])
    assert problems_text(caught.value) == "searchText: is required."


@pytest.mark.parametrize("fragment", ["should have", "Input should", "Value error", "String"])
def test_no_pydantic_wording_is_left(fragment):
    error = refused(search_text="too long", amount=-1, days=[3, 1])
    assert fragment not in problems_text(error)
    assert all(fragment not in problem_words(e) for e in error.errors())
