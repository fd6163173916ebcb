"""Request and response bodies of the services API (members, staff, tools, lost and found,
storage, supplies, flows), so OpenAPI documents every route.

Phone numbers and PINs appear only in request bodies; no response model has a field that could
carry one (members are `masked` / `label` / `member_id`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from station.api.text import FreeText, Strict
from station.people.card_desk import StaffBadge
from station.people.staff import StaffMember
from station.services.deposits.records import Deposit
from station.services.lending.records import Approval, Loan, Tool
from station.services.lostfound.records import (
    Approved,
    Category,
    Claim,
    FoundItem,
    FoundRecord,
    Options,
)
from station.services.pickup.records import Reissued, WaitingPickup
from station.services.supplies.records import Supply

# Response bodies that are a service's typed record as it is: one definition serves the
# service, the route and OpenAPI (the records' field descriptions are what OpenAPI shows).
LoanView = Loan
ToolView = Tool
ApprovalView = Approval
CategoryView = Category
FoundPublic = FoundItem
FoundStaff = FoundRecord
ClaimView = Claim
ApproveResponse = Approved
DepositView = Deposit
SupplyView = Supply
WaitingPickupView = WaitingPickup
ReissuedView = Reissued
FoundOptions = Options
StaffView = StaffMember
StaffBadgeView = StaffBadge


Phone = Field(min_length=8, max_length=24, description="Mainland China mobile number")
Pin = Field(pattern=r"^[0-9]{6}$", description="6 digits")
Reason = Field(min_length=2, max_length=200)
Note = Field(default="", max_length=200)


class RefusalBody(BaseModel):
    """Every refusal: a sentence for the screen and a code to branch on, plus extra facts."""

    model_config = ConfigDict(extra="allow")
    detail: str
    code: str


# --- flows -------------------------------------------------------------------------------------


class FlowView(BaseModel):
    id: str
    kind: Literal["loan", "return", "handin", "deposit", "pickup"]
    state: Literal[
        "opening", "open", "awaiting_answer", "completed", "cancelled", "abandoned", "failed"
    ]
    locker: str
    started_at: float
    updated_at: float
    message: str
    result: dict[str, Any]
    error: str | None
    question: dict[str, Any] | None
    key: str | None = Field(
        default=None,
        description="Only in the answer of the POST that started the flow: send it as "
        "X-Flow-Key to answer the flow and to receive its secret result (once)",
    )


class AnswerRequest(Strict):
    """The answer to a flow's question: a returned tool's `condition`, or the `choice` of an
    item-sensor question ("item_missing": yes/no, "item_left": open_again/leave_it)."""

    condition: Literal["works", "needs_repair", "parts_missing"] | None = None
    choice: Literal["yes", "no", "open_again", "leave_it"] | None = None
    note: FreeText = Note

    @model_validator(mode="after")
    def _one_answer(self) -> AnswerRequest:
        if (self.condition is None) == (self.choice is None):
            raise ValueError("give exactly one of 'condition' (a return) or 'choice'")
        return self


# --- people ------------------------------------------------------------------------------------


class IdentifyRequest(Strict):
    phone: str = Phone
    pin: str = Pin


class MemberView(BaseModel):
    member_id: str = Field(description="Keyed hash of the phone number")
    label: str = Field(description="How the usage log names this member")
    masked: str = Field(description="138****5678")
    last4: str
    kind: Literal["resident", "courier"]
    status: Literal["active", "suspended"]
    loans: list[LoanView]
    overdue: list[LoanView]
    max_loans: int = Field(description="Tools this member may have out at once")
    locked_until: float | None
    cards: int = Field(description="How many cards or codes are bound (never their numbers)")
    pin_state: Literal["set", "must_change", "unset"] = Field(
        description="must_change: a first PIN from the office; unset: staff set one here"
    )


class IdentifyResponse(BaseModel):
    session: str = Field(description="Send as header X-Member-Session for this flow")
    expires_in_s: float = Field(description="Idle time after which the session ends")
    member: MemberView


class CardIdentifyRequest(Strict):
    purpose: Literal["borrow", "claim", "deposit", "staff"]
    wait_s: float = Field(default=20.0, gt=0, le=60)


class CardIdentifyResponse(BaseModel):
    kind: Literal["member", "staff", "none"]
    session: str | None = None
    expires_in_s: float | None = None
    member: MemberView | None = None
    staff_no: str | None = None


class CardReadRequest(Strict):
    wait_s: float = Field(default=30.0, gt=0, le=60)


class RegisterMember(Strict):
    phone: str = Phone
    pin: str = Pin
    kind: Literal["resident", "courier"] = "resident"


class LookupMember(Strict):
    phone: str = Phone


class MemberStatusChange(Strict):
    status: Literal["active", "suspended"]
    reason: FreeText = Reason


class PinReset(Strict):
    pin: str = Pin


class ReasonBody(Strict):
    reason: FreeText = Reason


class NoteBody(Strict):
    note: FreeText = Note


class StaffLogin(Strict):
    staff_no: str = Field(min_length=1, max_length=16)
    pin: str = Pin


class StaffLoginResponse(BaseModel):
    token: str = Field(description="Bearer token with role staff; ends after idle_timeout_s")
    staff_no: str
    name: str
    idle_timeout_s: float


class StaffMe(BaseModel):
    staff_no: str
    name: str
    idle_timeout_s: float


class StaffCreate(Strict):
    staff_no: str = Field(pattern=r"^[A-Za-z0-9_-]{1,16}$")
    name: str = Field(min_length=1, max_length=40)
    pin: str = Pin
    role: Literal["staff", "admin"] = "staff"
    """`admin` may add staff accounts too (station/people/staff.py, may_add_staff)."""


class ThrottleView(BaseModel):
    """A station-wide guessing budget (see docs/security.md)."""

    kind: str
    limit: int
    window_s: float
    blocked_until: float | None


# --- tools -------------------------------------------------------------------------------------


class ToolFields(Strict):
    name_zh: str = Field(min_length=1, max_length=60)
    name_en: str = Field(min_length=1, max_length=80)
    category: str = Field(min_length=1, max_length=40)
    condition: FreeText = Field(default="good", max_length=200)
    accessories: list[str] = Field(default_factory=list, max_length=30)
    safety_notice: FreeText = Field(default="", max_length=1000)
    loan_period: int = Field(ge=1, le=720)
    loan_unit: Literal["hours", "days"] = "days"
    staff_approval_required: bool = False


class ToolCreate(ToolFields):
    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    locker: str | None = Field(default=None, pattern=r"^[A-Z][0-9]{2}$")


class ToolPatch(Strict):
    name_zh: str | None = Field(default=None, min_length=1, max_length=60)
    name_en: str | None = Field(default=None, min_length=1, max_length=80)
    category: str | None = Field(default=None, min_length=1, max_length=40)
    condition: FreeText | None = Field(default=None, max_length=200)
    accessories: list[str] | None = Field(default=None, max_length=30)
    safety_notice: FreeText | None = Field(default=None, max_length=1000)
    loan_period: int | None = Field(default=None, ge=1, le=720)
    loan_unit: Literal["hours", "days"] | None = None
    staff_approval_required: bool | None = None


class AssignRequest(Strict):
    locker: str = Field(pattern=r"^[A-Z][0-9]{2}$")


class ApprovalRequest(Strict):
    phone: str = Phone


class BorrowRequest(Strict):
    tool_id: str = Field(min_length=1, max_length=32)


# --- lost and found ----------------------------------------------------------------------------


class HandIn(Strict):
    category: Literal[
        "documents", "keys", "electronics", "wallets", "umbrellas", "clothing", "other"
    ]
    colour: str = Field(min_length=1, max_length=20)
    place: FreeText = Field(min_length=1, max_length=60)
    description: FreeText = Field(default="", max_length=200)
    finder_phone: str | None = Field(default=None, min_length=8, max_length=24)


class ClaimRequest(Strict):
    phone: str | None = Field(
        default=None,
        min_length=8,
        max_length=24,
        description="The claimant's mobile number; leave out when a member session is sent",
    )
    description: FreeText = Field(min_length=2, max_length=300, description="What was lost")


class RemoveRequest(Strict):
    disposition: Literal["police", "donated", "discarded"]
    reason: FreeText = Reason


# --- storage and pickups -----------------------------------------------------------------------


class DepositRequest(Strict):
    kind: Literal["bag", "phone_charge"] = "bag"
    size: Literal["S", "M", "L"] | None = None


class PickupRequest(Strict):
    code: str = Field(pattern=r"^[0-9]{8}$", description="The 8-digit pickup code")
    locker: str | None = Field(
        default=None,
        pattern=r"^[A-Z][0-9]{2}$",
        description="Optional: only this locker's code opens (the code alone finds its locker)",
    )


class WaitingLocker(BaseModel):
    locker: str


# --- supplies ----------------------------------------------------------------------------------


class RestockRequest(Strict):
    added: int = Field(ge=1, le=100_000)
    note: FreeText = Note


class CountRequest(Strict):
    count: int = Field(ge=0, le=100_000)
    note: FreeText = Note
