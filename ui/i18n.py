"""The one translation catalogue of the touchscreen: every word the UI shows comes from here.

Each entry is (简体中文, English); Chinese first because most people at a station read it. Keys
are dotted by screen. Strings use `str.format` fields (`{locker}`), the same in both languages;
tests check that every key has both texts with the same fields and that every key the code
uses exists. Widgets never hold literal text: they hold a key and ask the app's Translator.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from ui.settings import Language

LANGUAGES: tuple[Language, Language] = ("zh", "en")

CATALOGUE: Mapping[str, tuple[str, str]] = {
    # --- everywhere -------------------------------------------------------------------------
    "app.title": ("共享益站", "Shared Benefit Station"),
    "lang.toggle": ("EN", "中文"),
    "nav.back": ("‹ 返回", "‹ Back"),
    "nav.home": ("首页", "Home"),
    "nav.next": ("下一步 ›", "Next ›"),
    "nav.done": ("完成", "Done"),
    "nav.cancel": ("取消", "Cancel"),
    "nav.confirm": ("确认", "Confirm"),
    "nav.retry": ("重试", "Try again"),
    "nav.skip": ("跳过", "Skip"),
    "nav.more": ("更多 ›", "More ›"),
    "nav.prev_page": ("‹ 上一页", "‹ Previous"),
    "nav.next_page": ("下一页 ›", "Next page ›"),
    "nav.page": ("第 {page}/{pages} 页", "Page {page} of {pages}"),
    "staff.button": ("工作人员", "Staff"),
    "busy": ("请稍候…", "Please wait…"),
    "none": ("—", "—"),
    "list.sep": ("、", ", "),
    "choice.empty": ("这里暂时没有可选的项目", "Nothing to choose here right now"),
    "identify.title": ("验证身份", "Who are you?"),
    # --- tools ------------------------------------------------------------------------------
    "tools.pick": ("请选择要借的工具", "Tap the tool you want to borrow"),
    "tools.pick_return": ("请选择要归还的工具", "Tap the tool you are bringing back"),
    "tools.none": ("本站暂时没有可借的工具", "This station has no tools to lend right now"),
    "tools.none_on_loan": ("目前没有借出的工具", "No tool is on loan right now"),
    "tools.available": ("可借", "available"),
    "tools.needs_approval": ("需工作人员批准", "needs staff approval"),
    "tools.on_loan_until": ("已借出，{due} 归还", "on loan until {due}"),
    "tools.due": ("应还 {due}", "due {due}"),
    "tools.status.on_loan": ("已借出", "on loan"),
    "tools.status.reserved": ("已预约", "reserved"),
    "tools.status.maintenance": ("维修中", "being repaired"),
    "tools.status.missing": ("暂缺", "missing"),
    "tools.status.retired": ("已停用", "retired"),
    "tools.status.available": ("可借", "available"),
    "tools.no_locker": ("暂未放入柜中", "not in a locker yet"),
    "tools.locker_out": ("柜门暂停使用", "locker out of service"),
    "tools.loan_period": ("借用期限：{period}", "Loan period: {period}"),
    "tools.accessories": ("配件：{items}", "Comes with: {items}"),
    "tools.safety": ("安全提示：{notice}", "Safety: {notice}"),
    "tools.borrower": ("借用人：{who}", "Borrower: {who}"),
    "tools.confirm_borrow": ("确认借用，打开柜门", "Borrow it: open the door"),
    "tools.confirm_return": ("确认归还，打开柜门", "Return it: open the door"),
    "tools.return_to": ("请把工具放回 {locker} 号柜", "Put the tool back in locker {locker}"),
    # --- the door step and receipts ---------------------------------------------------------
    "door.title": ("柜门", "Locker door"),
    "door.opening": ("正在打开柜门 {locker}…", "Opening door {locker}…"),
    "door.open": ("柜门 {locker} 已打开", "Door {locker} is open"),
    "door.closed": ("柜门 {locker} 已关好，谢谢", "Door {locker} is closed, thank you"),
    "door.do.loan": ("请取出工具，然后关好柜门", "Take the tool and close the door"),
    "door.do.return": ("请放入工具，然后关好柜门", "Put the tool in and close the door"),
    "door.do.handin": ("请放入物品，然后关好柜门", "Put the item in and close the door"),
    "door.do.deposit": ("请放入物品，然后关好柜门", "Put your things in and close the door"),
    "door.do.pickup": ("请取出物品，然后关好柜门", "Take your things and close the door"),
    "door.state": ("柜门 {locker}：{state}", "Door {locker}: {state}"),
    "door.is.open": ("开着", "open"),
    "door.is.closed": ("关着", "closed"),
    "door.is.unknown": ("状态未知", "state not known"),
    "door.ask": ("工具还好用吗？", "Does the tool work?"),
    "door.answer.works": ("好用", "It works"),
    "door.answer.needs_repair": ("需要维修", "Needs repair"),
    "door.answer.parts_missing": ("缺少配件", "Parts missing"),
    "door.ask.item_missing": (
        "柜内似乎是空的。您放入物品了吗？",
        "The locker looks empty. Did you put your things in?",
    ),
    "door.ask.item_left": (
        "柜内还有物品。要再次开门取出吗？",
        "Something is still inside. Open again?",
    ),
    "door.choice.yes": ("放了", "Yes, I did"),
    "door.choice.no": ("没放", "No"),
    "door.choice.open_again": ("再开一次", "Open again"),
    "door.choice.leave_it": ("不用了", "Leave it"),
    "receipt.loan": ("借用成功", "Borrowed"),
    "receipt.loan.due": ("请于 {due} 前归还", "Please bring it back by {due}"),
    "receipt.loan.how": (
        "归还时在首页点「还工具」。",
        "To return it, tap “Return a tool” on the Home screen.",
    ),
    "receipt.return": ("归还成功，谢谢！", "Returned. Thank you!"),
    "receipt.return.repair": (
        "已通知工作人员检修。",
        "Staff have been told to look at it.",
    ),
    "receipt.handin": ("谢谢您交还失物！", "Thank you for handing it in!"),
    "receipt.handin.number": ("物品编号：", "Item number:"),
    "receipt.handin.valuable": (
        "贵重物品将由工作人员在24小时内取走保管。",
        "Valuables are collected by staff within 24 hours.",
    ),
    "receipt.deposit": ("已寄存在 {locker} 号柜", "Stored in locker {locker}"),
    "receipt.deposit.code": ("您的取件码：", "Your pickup code:"),
    "receipt.deposit.until": ("请在 {until} 前取件", "Pick up before {until}"),
    "receipt.deposit.keep": (
        "请记下或拍下取件码。取件时点首页的「取件」，输入取件码。",
        "Write the code down or take a photo. To pick up, tap Pick up on Home and type it.",
    ),
    "receipt.pickup": ("取件完成，谢谢！", "Picked up. Thank you!"),
    "receipt.pickup.item_left": (
        "柜内还留有物品，已通知工作人员。",
        "Something is still inside: staff have been told.",
    ),
    "receipt.handin.released": (
        "{locker} 号柜未放入物品，已释放",
        "Nothing handed in: locker {locker} is free again",
    ),
    "receipt.deposit.released": (
        "{locker} 号柜未寄存物品，已释放，无需取件码",
        "Nothing stored: locker {locker} is free again, no code needed",
    ),
    # --- lost and found ----------------------------------------------------------------------
    "lost.menu": ("您要做什么？", "What would you like to do?"),
    "lost.handin": ("交还失物", "Hand in an item"),
    "lost.handin.hint": ("捡到东西放这里", "You found something"),
    "lost.find": ("查找失物", "Find a lost item"),
    "lost.find.hint": ("看看有没有您丢的", "See what was found"),
    "lost.category": ("这是什么物品？", "What is it?"),
    "lost.colour": ("它是什么颜色？", "What colour is it?"),
    "lost.place": ("在哪里捡到的？", "Where was it found?"),
    "lost.check": ("请核对", "Please check"),
    "lost.summary.category": ("物品：{value}", "Item: {value}"),
    "lost.summary.colour": ("颜色：{value}", "Colour: {value}"),
    "lost.summary.place": ("地点：{value}", "Found at: {value}"),
    "lost.summary.phone": ("您的电话：{value}", "Your phone: {value}"),
    "lost.summary.no_phone": ("未留电话", "No phone number left"),
    "lost.valuable": (
        "贵重物品：工作人员将在24小时内取走保管。",
        "A valuable: staff will collect it within 24 hours.",
    ),
    "lost.open": ("确认，打开柜门", "Confirm: open a door"),
    "lost.all": ("全部", "Everything"),
    "lost.find.category": ("您丢了什么？", "What did you lose?"),
    "lost.find.pick": ("点选您的物品", "Tap your item"),
    "lost.find.none": ("暂时没有这类失物", "Nothing of this kind has been found"),
    "lost.claim": ("这是我的，申请认领", "This is mine: claim it"),
    "lost.claim.how": (
        "认领需要工作人员核实，核实后会给您取件码。",
        "Staff check every claim and then give you a pickup code.",
    ),
    "lost.claim.sent": ("认领申请已提交", "Your claim was sent"),
    "lost.claim.next": (
        "工作人员核实后会联系 {phone}。",
        "Staff will contact {phone} after checking.",
    ),
    "colour.black": ("黑色", "Black"),
    "colour.white": ("白色", "White"),
    "colour.grey": ("灰色", "Grey"),
    "colour.red": ("红色", "Red"),
    "colour.orange": ("橙色", "Orange"),
    "colour.yellow": ("黄色", "Yellow"),
    "colour.green": ("绿色", "Green"),
    "colour.blue": ("蓝色", "Blue"),
    "colour.purple": ("紫色", "Purple"),
    "colour.brown": ("棕色", "Brown"),
    "colour.pink": ("粉色", "Pink"),
    "colour.other": ("其他颜色", "Other colour"),
    # --- storage and pickup ------------------------------------------------------------------
    "storage.menu": ("您要做什么？", "What would you like to do?"),
    "storage.bag": ("寄存物品", "Leave a bag"),
    "storage.bag.hint": ("凭取件码取回", "Get it back with a code"),
    "storage.phone": ("手机充电", "Charge a phone"),
    "storage.phone.hint": ("柜内有充电线", "Cables are inside"),
    "storage.size": ("需要多大的柜子？", "Which size of locker?"),
    "storage.size.S": ("小柜", "Small"),
    "storage.size.M": ("中柜", "Medium"),
    "storage.size.L": ("大柜", "Large"),
    "storage.size.free": ("有空柜", "free"),
    "storage.size.none": ("已满", "full"),
    "storage.phone.how": (
        "柜门打开后，请把手机接上柜内的充电线。",
        "When the door opens, plug your phone into the cable inside.",
    ),
    "storage.phone.cable": (
        "关门后会显示取件码，凭码取回手机。",
        "After you close the door you get a code to get your phone back.",
    ),
    "storage.open": ("打开柜门", "Open a door"),
    "pickup.code": ("请输入8位取件码", "Type the 8-digit pickup code"),
    "pickup.locker_id": ("{locker} 号柜", "Locker {locker}"),
    # --- home -------------------------------------------------------------------------------
    "home.welcome": ("欢迎使用，请点选服务", "Welcome. Tap a service."),
    "home.borrow": ("借工具", "Borrow a tool"),
    "home.borrow.hint": ("免费借用，按时归还", "Free, bring it back on time"),
    "home.return": ("还工具", "Return a tool"),
    "home.return.hint": ("归还借用的工具", "Bring back a borrowed tool"),
    "home.lost": ("失物招领", "Lost and found"),
    "home.lost.hint": ("交还 · 查找", "Hand in · Find"),
    "home.pickup": ("取件", "Pick up"),
    "home.pickup.hint": ("输入取件码", "Type your code"),
    "home.storage": ("寄存充电", "Store or charge"),
    "home.storage.hint": ("寄存物品或给手机充电", "Leave a bag or charge a phone"),
    "home.rest": ("休息区", "Rest area"),
    "home.rest.vacant": ("休息区：空闲", "Rest area: free"),
    "home.rest.occupied": ("休息区：有人", "Rest area: in use"),
    "home.rest.unknown": ("休息区：状态未知", "Rest area: not known"),
    "home.supplies": ("物资", "Supplies"),
    "home.supplies.none": ("物资：暂无信息", "Supplies: no information"),
    "home.supply.in": ("{name} 有", "{name} ✓"),
    "home.supply.low": ("{name} 少", "{name} low"),
    "home.supply.out": ("{name} 无", "{name} out"),
    "home.supplies.list": ("物资：{items}", "Supplies: {items}"),
    "home.charging.free": ("充电 有空位", "charging free"),
    "home.charging.none": ("充电 已满", "charging full"),
    "home.notice": ("通知：{text}", "Notice: {text}"),
    "home.promo": ("【{merchant}】{text}", "[{merchant}] {text}"),
    "notice.title": ("通知", "Notice"),
    "notice.promo.title": ("商家优惠：{merchant}", "Offer from {merchant}"),
    "notice.until": ("有效期至 {until}", "Until {until}"),
    # --- restarting / errors ----------------------------------------------------------------
    "idle.title": ("还需要时间吗？", "Do you need more time?"),
    "idle.question": ("还需要时间吗？", "Do you need more time?"),
    "idle.tap": ("点屏幕任意处继续。", "Tap anywhere on the screen to carry on."),
    "restart.title": ("系统正在重启", "The station is restarting"),
    "restart.body": (
        "请稍等片刻，恢复后将自动回到首页。",
        "Please wait a moment. This screen returns to Home by itself.",
    ),
    "restart.refused": (
        "此触摸屏未获授权（令牌不对），请联系工作人员。",
        "This touchscreen is not authorised (wrong token): please call staff.",
    ),
    "restart.help": ("如需帮助请致电 {phone}", "For help call {phone}"),
    "error.title": ("出了点问题", "Something went wrong"),
    "error.help": ("需要帮助请致电 {phone}", "For help call {phone}"),
    "error.wrong_pin": ("密码不正确", "Wrong PIN"),
    "error.wrong_pin.tries": (
        "还可以再试 {tries} 次。",
        "You can try {tries} more times.",
    ),
    "error.wrong_pin.what": ("请重新输入密码。", "Please enter your PIN again."),
    "error.wrong_pin.account": (
        "还没有账户或忘了密码？请找站内工作人员，或致电 {phone}。",
        "No account yet, or forgot the PIN? Ask staff at the station, or call {phone}.",
    ),
    "error.locked": ("暂时锁定", "Locked for now"),
    "error.locked.body": (
        "密码错误次数过多，请于 {until} 后再试。",
        "Too many wrong PINs. Please try again after {until}.",
    ),
    "error.locked.soon": (
        "密码错误次数过多，请稍后再试。",
        "Too many wrong PINs. Please try again later.",
    ),
    "error.guessing": ("暂停办理", "Paused for now"),
    "error.guessing.body": (
        "本站错误输入次数过多，为安全起见暂停办理，请于 {until} 后再试，或联系工作人员。",
        "Too many wrong entries at this station: paused for safety. Please try again after "
        "{until}, or ask staff.",
    ),
    "error.unknown_member": ("未找到此手机号", "Phone number not registered"),
    "error.unknown_member.body": (
        "请确认号码，或请工作人员帮您登记。",
        "Check the number, or ask staff to register you.",
    ),
    "error.card_unknown": ("这张卡还没有登记", "This card is not registered"),
    "error.card_unknown.body": (
        "请找站内工作人员绑定，或输入手机号和密码。也可致电 {phone}。",
        "Ask staff at the station to bind it, or use your phone number and PIN. Or call {phone}.",
    ),
    "error.pin_change_required.body": (
        "请先换掉社区办发的首次密码：输入手机号和首次密码，再设自己的密码。",
        "First replace the PIN from the office: type your number and that PIN, then choose yours.",
    ),
    "first_pin.title": ("设置自己的密码", "Choose your own PIN"),
    "first_pin.new": (
        "这是社区办发的首次密码，请设一个自己的6位密码",
        "This PIN came from the office: choose your own 6 digits",
    ),
    "first_pin.done": ("新密码已生效", "Your new PIN is set"),
    "first_pin.done.body": (
        "请用手机号和新密码再验证一次，即可继续。",
        "Identify once more with your number and the new PIN to go on.",
    ),
    "error.pin_required.body": (
        "这项服务需要输入手机号和密码。",
        "This needs your phone number and PIN.",
    ),
    "error.card_taken.body": (
        "这张卡已绑定到另一个账户，需先在那个账户解绑。",
        "This card belongs to another account; unbind it there first.",
    ),
    "error.no_card.body": (
        "没有读到卡，请点“绑定卡”再刷一次。",
        "No card was read; tap Bind and present it again.",
    ),
    "error.staff_badge.body": (
        "这是工作证，请用首页的工作人员按钮登录。",
        "This is a staff badge: log in with the staff button on Home.",
    ),
    "error.not_staff_badge.body": ("这张卡不是工作证。", "This card is not a staff badge."),
    "error.door_failed": ("柜门没有打开", "The door did not open"),
    "error.door_failed.body": (
        "已通知工作人员。请稍后再试，或致电 {phone}。",
        "Staff have been told. Please try later, or call {phone}.",
    ),
    "error.door_failed.loan": (
        "已通知工作人员，这件工具暂时取不出，没有算您借用。请选择其他工具，或致电 {phone}。",
        "Staff have been told. This tool cannot come out now and is not on loan to you. "
        "Choose another tool, or call {phone}.",
    ),
    "error.door_failed.return": (
        "已通知工作人员，工具还没有算归还。请把工具交给站内工作人员，或致电 {phone}。",
        "Staff have been told; the tool is not returned yet. Hand it to staff at the "
        "station, or call {phone}.",
    ),
    "error.door_failed.pickup": (
        "已通知工作人员。您的取件码仍然有效，请稍后再试，或致电 {phone}。",
        "Staff have been told. Your code still works: try again later, or call {phone}.",
    ),
    "error.door_failed.again": (
        "已通知工作人员。请点「重试」，本站会换一个柜门；或致电 {phone}。",
        "Staff have been told. Tap Try again and the station will use another locker, "
        "or call {phone}.",
    ),
    "error.board_offline": ("部分柜门暂停使用", "Some lockers are out of service"),
    "error.board_offline.body": (
        "这些柜门暂时无法打开，已通知工作人员。请稍后再试。",
        "Those lockers cannot open now; staff have been told. Please try later.",
    ),
    "error.no_locker": ("暂无空柜", "No free locker"),
    "error.no_locker.body": (
        "现在没有空闲的柜子，请稍后再试或致电 {phone}。",
        "There is no free locker now. Please try later or call {phone}.",
    ),
    "error.code": ("取件码无效", "Code not valid"),
    "error.code.body": (
        "取件码不正确、已使用或已过期。请核对后再试。",
        "The code is wrong, already used or expired. Please check it and try again.",
    ),
    "error.code.tries": (
        "取件码不正确，还可以再试 {tries} 次。",
        "Wrong code. You can try {tries} more times.",
    ),
    "error.code.check": (
        "请核对收据或短信上的8位数字。",
        "Check the 8 digits on your receipt or message.",
    ),
    "error.codes_locked.body": (
        "取件码错误次数过多，本屏暂停取件，请于 {until} 后再试。已通知工作人员，也可致电 {phone}。",
        "Too many wrong codes: pickups at this screen pause until {until}. Staff have been "
        "told; you can also call {phone}.",
    ),
    "error.refused": ("无法办理", "This cannot be done"),
    "error.refused.body": ("{reason}", "{reason}"),
    "error.session.member": (
        "为保护您的信息，操作已超时。请重新开始。",
        "To protect your details the session timed out. Please start again.",
    ),
    "error.suspended": ("账户已暂停", "Account suspended"),
    "error.suspended.body": (
        "您的账户已被暂停使用，请联系工作人员：{phone}。",
        "Your account is suspended. Please contact staff: {phone}.",
    ),
    "error.overdue": ("您有未归还的工具", "You have a tool to bring back"),
    "error.overdue.body": (
        "请先归还逾期的工具，再借新的。",
        "Please return the overdue tool before borrowing another.",
    ),
    "error.overdue.item": ("{name}（应于 {due} 归还）", "{name} (due {due})"),
    "error.loan_limit": ("借用数量已满", "Loan limit reached"),
    "error.loan_limit.body": (
        "您借的工具已达上限，请先归还一件。",
        "You already have the most tools allowed. Please return one first.",
    ),
    "error.approval": ("需要工作人员批准", "Staff approval needed"),
    "error.approval.body": (
        "这件工具需要工作人员先批准。请找站内工作人员批准后再借，或致电 {phone}。",
        "This tool needs staff approval first. Ask staff at the station to approve it, then "
        "borrow it again, or call {phone}.",
    ),
    "tools.approval.title": ("需要工作人员批准", "Staff approval needed"),
    "tools.approval.how": (
        "借这件工具前，需要工作人员先批准。还没有批准？请找站内工作人员，或致电 {phone}。",
        "Staff must approve this tool for you before you borrow it. Not approved yet? Ask "
        "staff at the station, or call {phone}.",
    ),
    "tools.approval.go": ("已获批准，继续", "Approved: go on"),
    "error.tool_unavailable": ("这件工具现在不能借", "This tool is not available"),
    "error.tool_unavailable.body": (
        "它刚被借走或正在维修，请选择其他工具。",
        "It was just taken or is being repaired. Please choose another.",
    ),
    "error.pickup_unavailable.body": (
        "这个柜门现在打不开，已通知工作人员。您的取件码仍然有效，请稍后再试，或致电 {phone}。",
        "That door cannot open now; staff have been told. Your code still works: try again "
        "later, or call {phone}.",
    ),
    "error.locker_unavailable.body": (
        "这个柜门现在打不开，已通知工作人员。请选择其他项目，或致电 {phone}。",
        "That door cannot open now; staff have been told. Choose another, or call {phone}.",
    ),
    "error.code.expired": (
        "取件码已过期。请致电 {phone}，工作人员会给您新的取件码。",
        "The code has expired. Call {phone}; staff will give you a new code.",
    ),
    "error.code.used": (
        "这个取件码已经用过了。",
        "This code has already been used.",
    ),
    "error.code.exhausted": (
        "这个取件码已停用。请致电 {phone}，工作人员会给您新的取件码。",
        "This code was blocked. Please call {phone}; staff will give you a new one.",
    ),
    "error.claimed": ("无法认领", "Cannot claim this"),
    "error.claimed.body": (
        "这件物品已有人认领并通过核实。",
        "This item was already claimed and approved.",
    ),
    "error.duplicate_claim.body": (
        "您已经申请过认领这件物品，请等待工作人员联系。",
        "You already claimed this item. Please wait for staff to contact you.",
    ),
    "error.not_claimable.body": (
        "这件物品已不在柜中，请致电 {phone}。",
        "This item is no longer in a locker. Please call {phone}.",
    ),
    "error.invalid": ("输入有误", "Please check what you entered"),
    "error.invalid.body": (
        "号码格式不正确，请重新输入。",
        "That number is not valid. Please enter it again.",
    ),
    "error.members_unavailable.body": (
        "本站暂时无法验证身份，请致电 {phone}。",
        "This station cannot check members right now. Please call {phone}.",
    ),
    "error.station_restoring.body": (
        "本站正在等待工作人员恢复数据，暂停服务。请致电 {phone}。",
        "This station is waiting for staff to restore its data and is paused. Please call {phone}.",
    ),
    "error.not_found.body": (
        "没有找到，可能刚被处理。请返回重试。",
        "Not found; it may have just changed. Please go back and try again.",
    ),
    "error.invalid_state.body": (
        "现在不能这样操作，请返回刷新后再试。",
        "That cannot be done now. Please go back and try again.",
    ),
    "error.door_open": ("柜门没有关好", "The door was not closed"),
    "error.door_open.body": (
        "已通知工作人员。如需帮助请致电 {phone}。",
        "Staff have been told. For help call {phone}.",
    ),
    "error.session": ("登录已过期", "Session expired"),
    "error.session.body": ("请重新登录。", "Please log in again."),
    # --- maintenance ---------------------------------------------------------------------------
    "maint.login": ("工作人员登录", "Staff login"),
    "maint.title": ("维护", "Maintenance"),
    "maint.title_who": ("维护 · {who}", "Maintenance · {who}"),
    "maint.section.doors": ("柜门", "Doors"),
    "maint.section.alarms": ("报警", "Alarms"),
    "maint.section.tools": ("工具", "Tools"),
    "maint.section.lost": ("失物", "Lost"),
    "maint.section.members": ("会员", "Member"),
    "maint.section.supplies": ("物资", "Stock"),
    "maint.section.storage": ("寄存", "Storage"),
    "maint.section.sync": ("同步", "Sync"),
    "maint.section.selftest": ("自检", "Test"),
    "maint.members.hint": (
        "每项都先请居民自己输入手机号",
        "Each starts with the resident typing their phone number",
    ),
    "maint.members.register": ("登记新会员", "Register member"),
    "maint.members.reset": ("重设密码", "Reset PIN"),
    "maint.members.card": ("绑卡 / 解绑", "Bind / unbind card"),
    "maint.members.deactivate": ("停用会员", "Deactivate"),
    "maint.members.title": ("会员", "Member"),
    "maint.members.phone": ("请居民输入手机号（11位）", "Resident: type your mobile number"),
    "maint.members.pin": ("请居民设一个6位密码", "Resident: choose a 6-digit PIN"),
    "pin.again": ("请再输入一次同一个密码", "Type the same PIN again"),
    "pin.differ": ("两次密码不一样", "The two PINs differ"),
    "pin.differ.body": (
        "请重新设密码，两次输入同一个。",
        "Please choose the PIN again and type it twice.",
    ),
    "maint.members.confirm": ("登记 {masked}？", "Register {masked}?"),
    "maint.members.confirm.staff": (
        "工作人员请核对号码和本人后确认。",
        "Staff: check the number and the person, then confirm.",
    ),
    "maint.members.do_register": ("确认登记", "Register"),
    "maint.members.registered": ("已登记", "Registered"),
    "maint.members.pin_done": ("新密码已生效", "New PIN set"),
    "maint.members.deactivated": ("已停用", "Deactivated"),
    "maint.members.who": (
        "{masked} · {status} · {cards} 张卡",
        "{masked} · {status} · {cards} card(s)",
    ),
    "maint.members.status.active": ("正常", "active"),
    "maint.members.status.suspended": ("已停用", "deactivated"),
    "maint.members.card_hint": (
        "绑卡后刷卡即可借工具、认领失物。",
        "With a card bound, a touch of it borrows a tool or claims an item.",
    ),
    "maint.members.bind": ("绑定卡", "Bind a card"),
    "maint.members.unbind": ("解绑全部卡", "Unbind all"),
    "maint.members.present_for": ("绑定给 {who}", "To bind to {who}"),
    "maint.members.badge": ("工作证", "Staff badge"),
    "maint.members.badge_who": (
        "工号 {staff_no} {name} · {cards} 个工作证",
        "Staff {staff_no} {name} · {cards} badge(s)",
    ),
    "maint.members.badge_hint": (
        "绑定后刷工作证再输密码即可登录维护界面。",
        "With a badge bound, badge + PIN log in here.",
    ),
    "maint.members.bind_badge": ("绑定工作证", "Bind a badge"),
    "maint.members.do_deactivate": ("停用", "Deactivate"),
    "card.present": ("请刷卡或出示二维码", "Present your card or QR code"),
    "maint.doors.hint": ("点柜门查看或开门", "Tap a door to see it or open it"),
    "maint.contents.empty": ("空", "empty"),
    "maint.contents.bag": ("寄存物品", "stored bag"),
    "maint.contents.phone": ("充电手机", "charging phone"),
    "maint.contents.found": ("失物 {number}", "found {number}"),
    "maint.contents.pickup": ("待取件", "awaiting pickup"),
    "maint.door.title": ("柜门", "Door"),
    "maint.door.faulty": ("故障", "faulty"),
    "maint.door.offline": ("离线", "offline"),
    "maint.door.fault": ("故障原因：{reason}", "Fault: {reason}"),
    "maint.door.why": ("为什么开门？", "Why open it?"),
    "maint.door.confirm_title": ("确认开门", "Open the door?"),
    "maint.door.confirm": ("打开 {locker} 号柜门？", "Open door {locker}?"),
    "maint.door.confirm_why": (
        "原因：{reason} · 柜内：{inside}",
        "Reason: {reason} · Inside: {inside}",
    ),
    "maint.door.do_open": ("确认开门", "Open it"),
    "maint.door.release": ("解除故障，恢复使用", "Release: back in service"),
    "maint.reason.restock": ("补货", "Restock"),
    "maint.reason.inspect": ("检查", "Inspect"),
    "maint.reason.clean": ("清洁", "Clean"),
    "maint.reason.retrieve": ("取出物品", "Take out an item"),
    "maint.reason.repair": ("维修", "Repair"),
    "maint.alarm.raised": ("未处理", "raised"),
    "maint.alarm.acknowledged": ("已确认", "acknowledged"),
    "maint.alarm.cleared": ("已解除", "cleared"),
    "maint.alarms.none": ("没有报警", "No alarms"),
    "maint.ack": ("确认", "Acknowledge"),
    "alarm.forced_open": ("柜门被强行打开", "Door forced open"),
    "alarm.door_jammed": ("柜门打不开", "Door jammed"),
    "alarm.door_left_open": ("柜门未关", "Door left open"),
    "alarm.board_offline": ("锁控板离线", "Lock board offline"),
    "alarm.sensor_offline": ("传感器离线", "Sensor offline"),
    "alarm.pin_lockout": ("密码多次错误", "PIN lockout"),
    "alarm.guessing": ("疑似猜测密码", "Someone may be guessing"),
    "alarm.low_stock": ("物资不足", "Low stock"),
    "alarm.sync_failing": ("同步失败", "Sync failing"),
    "alarm.disk_full": ("存储已满", "Disk full"),
    "alarm.database_behind": ("数据库需要恢复", "Database needs restoring"),
    "alarm.reader_offline": ("读卡器离线", "Card reader offline"),
    "alarm.subject.locker": ("{locker} 号柜门", "door {locker}"),
    "alarm.subject.member": ("尾号 {last4} 的会员", "member with phone ending {last4}"),
    "alarm.subject.staff": ("工号 {staff_no} 的工作人员", "staff no. {staff_no}"),
    "alarm.subject.board": ("锁控板 {board}", "lock board {board}"),
    "alarm.subject.sensor": ("传感器 {sensor}", "sensor {sensor}"),
    "alarm.subject.reader": ("读卡器", "card reader"),
    "alarm.subject.central": ("中心服务器", "central server"),
    "alarm.subject.data": ("数据存储", "data storage"),
    "alarm.subject.member_pins": ("会员密码", "member PINs"),
    "alarm.subject.staff_pins": ("工作人员密码", "staff PINs"),
    "alarm.subject.codes": ("取件码", "pickup codes"),
    "alarm.subject.claims": ("失物认领", "lost-item claims"),
    "maint.tool.repaired": ("修好了", "Repaired"),
    "maint.tool.restock": ("上架", "Restock"),
    "maint.tool.assign": ("换柜", "Assign"),
    "maint.pick_locker": ("选择柜子", "Pick a locker"),
    "maint.lost.claims": ("待审认领", "Claims"),
    "maint.lost.valuables": ("贵重待取", "Valuables"),
    "maint.lost.expired": ("过期物品", "Expired"),
    "maint.lost.none": ("没有需要处理的", "Nothing to do"),
    "maint.claim.row": ("{item} · {what} · 认领人 {who}", "{item} · {what} · claimed by {who}"),
    "maint.found.row": (
        "{number} · {category} · {locker} · {when}",
        "{number} · {category} · {locker} · {when}",
    ),
    "maint.approve": ("批准", "Approve"),
    "maint.reject": ("拒绝", "Reject"),
    "maint.reject.why": ("拒绝原因", "Why reject it?"),
    "maint.reject.mismatch": ("描述不符", "Does not match"),
    "maint.reject.unreachable": ("联系不上", "Could not reach"),
    "maint.reject.other": ("其他原因", "Other reason"),
    "maint.collect": ("已取走", "Collected"),
    "maint.remove": ("处理", "Remove"),
    "maint.remove.why": ("如何处理？", "What happens to it?"),
    "maint.disposition.police": ("交派出所", "Handed to police"),
    "maint.disposition.donated": ("捐赠", "Donated"),
    "maint.disposition.discarded": ("丢弃", "Discarded"),
    "maint.reason": ("原因", "Reason"),
    "maint.claim.approved": ("已批准认领", "Claim approved"),
    "maint.claim.code": (
        "请把取件码告诉认领人（{locker} 号柜）：",
        "Tell the claimant this pickup code (locker {locker}):",
    ),
    "maint.claim.in_person": (
        "物品在工作人员处，请当面交还。",
        "The item is with staff: hand it over in person.",
    ),
    "maint.supply.row": ("{name}：{count}{unit}", "{name}: {count} {unit}"),
    "maint.supply.row.low": (
        "{name}：{count}{unit}（不足，提醒线 {threshold}）",
        "{name}: {count} {unit} (low, alert at {threshold})",
    ),
    "maint.supply.restock": ("补货 +", "Add +"),
    "maint.supply.count": ("盘点 =", "Count ="),
    "maint.supply.adding": (
        "{name}（现有 {count}）：新增多少？",
        "{name} (now {count}): how many added?",
    ),
    "maint.supply.counting": (
        "{name}（记录 {count}）：实际有多少？",
        "{name} (recorded {count}): how many are there?",
    ),
    "maint.storage.hint": (
        "待取件与超时的寄存：可发新取件码或清理",
        "Waiting pickups and overtime deposits: new code or clear",
    ),
    "maint.storage.none": ("没有待取件或超时的寄存", "Nothing waiting, nothing overtime"),
    "maint.code.reissue": ("新取件码", "New code"),
    "maint.code.title": ("新取件码", "New pickup code"),
    "maint.code.why": (
        "为什么要新取件码？（旧码将失效）",
        "Why a new code? (the old one stops working)",
    ),
    "maint.code.reason.lost": ("取件码丢了", "Code lost"),
    "maint.code.reason.expired": ("取件码过期", "Code expired"),
    "maint.code.reason.not_shown": ("没看到取件码", "Code never seen"),
    "maint.code.deposit": ("寄存", "deposit"),
    "maint.code.claim": ("认领", "claim"),
    "maint.code.active": ("取件码有效至 {until}", "code valid until {until}"),
    "maint.code.dead": ("取件码已失效", "code no longer works"),
    "maint.code.row": ("{locker} · {kind} · {state}", "{locker} · {kind} · {state}"),
    "maint.storage.row": (
        "{locker} · {kind} · {who} · {since}",
        "{locker} · {kind} · {who} · {since}",
    ),
    "maint.storage.clear": ("清理", "Clear"),
    "maint.storage.why": ("如何处理？", "What happened to it?"),
    "maint.storage.reason.owner": ("已交还本人", "Given back to the owner"),
    "maint.storage.reason.office": ("已送到办公室", "Taken to the office"),
    "maint.sync.enabled": ("同步：已开启", "Sync: on"),
    "maint.sync.disabled": ("同步：未开启", "Sync: off"),
    "maint.sync.central": ("中心：{host}", "Central office: {host}"),
    "maint.sync.pending": (
        "待上传 {count} 条（滞后 {lag}）",
        "{count} events to send ({lag} behind)",
    ),
    "maint.sync.last": ("上次成功：{when}", "Last success: {when}"),
    "maint.sync.bundle": (
        "下发配置：第 {version} 版（{status}）",
        "Bundle: version {version} ({status})",
    ),
    "maint.sync.error": ("最近错误：{kind} {detail}", "Last error: {kind} {detail}"),
    "maint.sync.advice": ("建议：{advice}", "What to do: {advice}"),
    "maint.sync.problem": ("最近错误：{what}", "Last error: {what}"),
    "maint.sync.detail": ("技术详情（给技术员）：{detail}", "Details for the technician: {detail}"),
    "maint.sync.bundle.ok": ("正常", "ok"),
    "maint.sync.bundle.rejected": ("被拒绝，请联系技术员", "refused, call the technician"),
    "maint.sync.kind.tls": (
        "与中心的加密连接失败。请检查本机时间是否正确，并联系技术员",
        "The secure connection to the central office failed. Check the station's clock and "
        "call the technician",
    ),
    "maint.sync.kind.disk": (
        "本机存储已满。请联系技术员清理空间，记录不会丢失",
        "The station's storage is full. Call the technician to free space; no record is lost",
    ),
    "maint.sync.kind.store": (
        "本机数据库写入失败。请联系技术员检查存储卡",
        "The station's database refused a write. Call the technician to check the SD card",
    ),
    "maint.sync.kind.timeout": (
        "中心响应超时（网络慢），会自动重试",
        "The central office did not answer in time (a slow network); it retries by itself",
    ),
    "maint.sync.kind.network": (
        "连不上中心。请检查 4G 路由器；记录保存在本机，恢复后自动上传",
        "Cannot reach the central office. Check the 4G router; records wait here and go out "
        "when the link is back",
    ),
    "maint.sync.kind.garbage": (
        "收到的不是中心的回答（可能是网络登录页）。请检查网络和中心地址",
        "The answer did not come from the central office (a login page of the network?). "
        "Check the network and the central address",
    ),
    "maint.sync.kind.internal": (
        "同步程序出错。请把日志交给技术员；记录不会丢失",
        "Sync hit a bug. Give the log to the technician; no record is lost",
    ),
    "maint.sync.kind.auth": (
        "中心拒绝了本站的令牌。请向中心办公室索取新令牌",
        "The central office refused this station's token. Ask the office for a new one",
    ),
    "maint.sync.kind.forbidden": (
        "令牌与本站编号不符。请联系技术员",
        "The token does not belong to this station's number. Call the technician",
    ),
    "maint.sync.kind.conflict": (
        "中心已有本站编号下的不同记录。请联系中心办公室重新登记本站",
        "The central office holds other records under this station's number. Ask the office "
        "to register the station again",
    ),
    "maint.sync.kind.too_large": (
        "上传的一批太大，会自动减小后重试",
        "An upload was too large; it retries in smaller batches by itself",
    ),
    "maint.sync.kind.server": (
        "中心服务器出错，会自动重试，记录不会丢失",
        "The central office's server failed; it retries by itself and no record is lost",
    ),
    "maint.sync.kind.refused": (
        "中心拒绝了请求（两边版本可能不一致）。请联系技术员升级",
        "The central office refused the request (the releases may not match). Call the "
        "technician to update",
    ),
    "maint.sync.refresh": ("刷新", "Refresh"),
    "maint.sync.unavailable": (
        "本站守护进程未提供同步状态。",
        "This station's daemon does not report sync status.",
    ),
    "selftest.hint": (
        "自检会逐个打开空柜门，请在每个门打开后把它关上。",
        "The self-test opens each empty door in turn; close each one after it opens.",
    ),
    "selftest.start": ("开始自检", "Start self-test"),
    "selftest.testing": ("正在测试 {locker}…", "Testing {locker}…"),
    "selftest.close": ("{locker} 已打开，请关上它", "{locker} is open: please close it"),
    "selftest.summary": (
        "自检完成：{tested} 个柜门中 {ok} 个正常，跳过 {skipped} 个",
        "Self-test done: {ok} of {tested} doors fine, {skipped} skipped",
    ),
    "selftest.stopped": ("自检中断：{reason}", "Self-test stopped: {reason}"),
    "selftest.opened_closed": ("{locker} 打开、关闭均正常", "{locker} opened and closed"),
    "selftest.not_opened": ("{locker} 开锁后传感器未见打开", "{locker}: sensor never saw it open"),
    "selftest.not_closed": ("{locker} 传感器未见关闭", "{locker}: sensor never saw it close"),
    "selftest.refused": ("{locker} 无法开锁", "{locker}: could not unlock"),
    "selftest.skipped_full": ("{locker} 有物品，跳过", "{locker} holds something: skipped"),
    "selftest.skipped_out": ("{locker} 暂停使用，跳过", "{locker} out of service: skipped"),
    # --- spoken prompts (ui/voice): short, said once, never a code or a number --------------
    "voice.door_open": ("{locker} 号柜门已打开。{todo}", "Door {locker} is open. {todo}"),
    "voice.close_door": ("请关好 {locker} 号柜门", "Please close door {locker}"),
    "voice.door_closed": ("{locker} 号柜门已关好，谢谢", "Door {locker} is closed. Thank you"),
    "voice.still_there": ("还需要时间吗？请点一下屏幕", "Do you need more time? Tap the screen"),
    "voice.code_ok": ("取件码正确", "Code accepted"),
    "voice.error": ("{title}。{what}", "{title}. {what}"),
    # --- keypad ------------------------------------------------------------------------------
    "keypad.delete": ("⌫ 删除", "⌫ Delete"),
    "keypad.clear": ("清除", "Clear"),
    "keypad.empty": ("请输入", "Enter digits"),
    "keypad.phone": ("请输入手机号（11位）", "Enter your mobile number (11 digits)"),
    "keypad.pin": ("请输入6位密码", "Enter your 6-digit PIN"),
    "keypad.phone_or_card": ("请刷卡，或输入手机号", "Present your card, or type your number"),
    "keypad.staff_no_or_badge": (
        "请刷工作证，或输入工号",
        "Present your badge, or type your number",
    ),
    "keypad.staff_no": ("请输入工号", "Enter your staff number"),
    "keypad.staff_pin": ("请输入工作人员密码", "Enter your staff PIN"),
    "keypad.count": ("请输入数量", "Enter the count"),
    "keypad.finder_phone": (
        "留下手机号以便失主致谢（可跳过）",
        "Leave a number for the owner's thanks (you may skip)",
    ),
    "keypad.claim_phone_or_card": (
        "请刷卡或输入手机号，工作人员核实后联系您",
        "Present your card or type your number; staff will call you",
    ),
    "keypad.claim_phone": (
        "请输入您的手机号，工作人员核实后会联系您",
        "Enter your mobile number; staff will contact you after checking",
    ),
}


class Translator:
    """Looks texts up in the catalogue for the language now shown and formats dates.

    One instance belongs to the app (no module-level state); the language toggle flips it
    and every screen re-reads its texts.
    """

    def __init__(self, language: Language = "zh", zone: str = "Asia/Shanghai") -> None:
        self.language: Language = language
        self.zone = ZoneInfo(zone)

    def toggle(self) -> Language:
        self.language = "en" if self.language == "zh" else "zh"
        return self.language

    def t(self, key: str, **params: object) -> str:
        entry = CATALOGUE.get(key)
        if entry is None:
            raise KeyError(f"no text {key!r} in ui/i18n.py")
        text = entry[0] if self.language == "zh" else entry[1]
        return text.format(**params) if params else text

    def pick(self, zh: str | None, en: str | None) -> str:
        """Choose between two texts that came as data (tool names, notices)."""
        if self.language == "zh":
            return zh or en or ""
        return en or zh or ""

    def when(self, ts: float) -> str:
        """A date and time as people at a station read it: 11月24日 14:05 / 24 Nov 14:05."""
        moment = datetime.fromtimestamp(ts, self.zone)
        if self.language == "zh":
            return f"{moment.month}月{moment.day}日 {moment:%H:%M}"
        return f"{moment.day} {moment:%b %H:%M}"

    def duration(self, seconds: float) -> str:
        minutes = max(0, round(seconds / 60))
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        if self.language == "zh":
            parts = [f"{days}天" if days else "", f"{hours}小时" if hours else ""]
            parts.append(f"{mins}分钟" if mins or not (days or hours) else "")
            return "".join(parts)
        out = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
        out.append(f"{mins} min" if mins or not (days or hours) else "")
        return " ".join(p for p in out if p)


def mask_phone(digits: str) -> str:
    """138****5678: the only way a phone number is ever shown."""
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"
