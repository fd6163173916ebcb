"""Request and response bodies of the services API (members, staff, tools, lost and found,
storage, supplies, flows), so OpenAPI documents every route.

Phone numbers and PINs appear only in request bodies; no response model has a field that could
carry one (members are `masked` / `label` / `member_id`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from station.api.text import FreeText, Strict

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
    condition: Literal["works", "needs_repair", "parts_missing"]
    note: FreeText = Note


# --- people ------------------------------------------------------------------------------------


class IdentifyRequest(Strict):
    phone: str = Phone
    pin: str = Pin


class LoanView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tool_id: str
    tool_name_zh: str | None
    tool_name_en: str | None
    locker: str
    member: str
    member_label: str
    started_at: float
    due_at: float
    returned_at: float | None
    return_condition: str | None
    overdue: bool


class MemberView(BaseModel):
    member_id: str = Field(description="Keyed hash of the phone number")
    label: str = Field(description="How the usage log names this member")
    masked: str = Field(description="138****5678")
    last4: str
    kind: Literal["resident", "courier"]
    status: Literal["active", "suspended"]
    loans: list[LoanView]
    overdue: list[LoanView]
    locked_until: float | None


class IdentifyResponse(BaseModel):
    session: str = Field(description="Send as header X-Member-Session for this flow")
    expires_in_s: float = Field(description="Idle time after which the session ends")
    member: MemberView


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


class StaffView(BaseModel):
    staff_no: str
    name: str
    active: bool


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


class ToolView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name_zh: str
    name_en: str
    category: str
    condition: str
    accessories: list[str]
    safety_notice: str
    loan_period: int
    loan_unit: Literal["hours", "days"]
    staff_approval_required: bool
    locker: str | None
    status: Literal["available", "on_loan", "reserved", "maintenance", "missing", "retired"]
    status_reason: str | None
    borrowed_by: str | None = Field(description="Masked phone of the borrower, if on loan")
    due_at: float | None


class AssignRequest(Strict):
    locker: str = Field(pattern=r"^[A-Z][0-9]{2}$")


class ApprovalRequest(Strict):
    phone: str = Phone


class ApprovalView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tool_id: str
    member: str
    expires_at: float


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


class CategoryView(BaseModel):
    code: str
    zh: str
    en: str
    valuable: bool


class FoundOptions(BaseModel):
    categories: list[CategoryView]
    places: list[str]


class FoundPublic(BaseModel):
    number: str
    category: str
    category_zh: str
    category_en: str
    colour: str
    place: str
    description: str
    found_at: float
    status: str


class ClaimView(BaseModel):
    id: int
    item: str
    claimant: str = Field(description="Masked phone of the claimant")
    description: str
    status: Literal["pending", "approved", "rejected", "picked_up"]
    created_at: float
    decided_at: float | None
    decided_by: str | None
    reason: str | None


class FoundStaff(FoundPublic):
    locker: str | None
    valuable: bool
    collect_by: float | None
    finder: str | None = Field(description="Masked phone of the finder, if given")
    expires_at: float
    disposition: str | None
    disposition_reason: str | None
    claims: list[ClaimView]


class ClaimRequest(Strict):
    phone: str = Phone
    description: FreeText = Field(min_length=2, max_length=300, description="What was lost")


class ApproveResponse(BaseModel):
    claim: ClaimView
    code: str | None = Field(description="Pickup code, shown only here; null if handed over")
    locker: str | None
    code_expires_at: float | None


class RemoveRequest(Strict):
    disposition: Literal["police", "donated", "discarded"]
    reason: FreeText = Reason


# --- storage and pickups -----------------------------------------------------------------------


class DepositRequest(Strict):
    kind: Literal["bag", "phone_charge"] = "bag"
    size: Literal["S", "M", "L"] | None = None


class DepositView(BaseModel):
    id: int
    locker: str
    kind: Literal["bag", "phone_charge"]
    depositor: str
    status: Literal["open", "active", "collected", "cleared", "abandoned"]
    started_at: float
    code_expires_at: float | None
    overtime: bool
    closed_at: float | None
    note: str | None


class PickupRequest(Strict):
    locker: str = Field(pattern=r"^[A-Z][0-9]{2}$")
    code: str = Field(pattern=r"^[0-9]{6}$")


class WaitingLocker(BaseModel):
    locker: str


# --- supplies ----------------------------------------------------------------------------------


class SupplyView(BaseModel):
    id: str
    name: str
    name_en: str
    unit: str
    count: int | None = Field(description="null until staff first count it")
    threshold: int
    low: bool
    counted_at: float | None


class RestockRequest(Strict):
    added: int = Field(ge=1, le=100_000)
    note: FreeText = Note


class CountRequest(Strict):
    count: int = Field(ge=0, le=100_000)
    note: FreeText = Note
