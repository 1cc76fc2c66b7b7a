"""What the bot says, per language (ru, en, zh); English is the fallback.

Buyer texts come first, then what staff read in the support chat. Texts shown with
HTML parse mode (the case card) escape ``<`` and ``&`` themselves; values filled into
them are escaped by the caller.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "welcome": {
        "ru": "Здравствуйте! Это поддержка магазина «{shop}». Задайте вопрос о товаре или заказе.",
        "en": "Hello! This is {shop} support. Ask a question about a product or an order.",
        "zh": "您好！这里是{shop}客服。请提出关于商品或订单的问题。",
    },
    "pick_seller": {
        "ru": "Выберите магазин:",
        "en": "Choose a shop:",
        "zh": "请选择店铺：",
    },
    "unknown_seller": {
        "ru": "Магазин «{seller}» не найден. Откройте ссылку из карточки товара ещё раз.",
        "en": "Shop “{seller}” was not found. Please open the link from the product page again.",
        "zh": "未找到店铺“{seller}”。请重新打开商品页面中的链接。",
    },
    "no_seller": {
        "ru": "Сначала выберите магазин: отправьте /start.",
        "en": "Choose a shop first: send /start.",
        "zh": "请先选择店铺：发送 /start。",
    },
    "suggest": {
        "ru": "Возможно, вы спрашиваете об этом:",
        "en": "Perhaps you mean one of these:",
        "zh": "您可能想问：",
    },
    "handoff": {
        "ru": "Передаю ваш вопрос сотрудникам магазина.",
        "en": "I am passing your question to the shop's staff.",
        "zh": "我正在将您的问题转给店铺客服。",
    },
    "text_only": {
        "ru": "Пожалуйста, напишите вопрос текстом.",
        "en": "Please type your question as text.",
        "zh": "请用文字输入您的问题。",
    },
    "answer_other_language": {
        "ru": "Ответ есть только на другом языке:",
        "en": "This answer is only available in another language:",
        "zh": "此答案只有其他语言版本：",
    },
    "forget_confirm": {
        "ru": (
            "Удалить ваши данные? Бот забудет ваш Telegram-аккаунт, переписку с магазинами и "
            "номера заказов; открытые обращения будут закрыты. Отменить это нельзя."
        ),
        "en": (
            "Delete your data? The bot will forget your Telegram account, your conversations "
            "with shops and your order numbers; open cases will be closed. This cannot be undone."
        ),
        "zh": (
            "要删除您的数据吗？机器人将忘记您的 Telegram 账号、与店铺的对话和订单号；"
            "处理中的工单将被关闭。此操作无法撤销。"
        ),
    },
    "button_forget_yes": {"ru": "Да, удалить", "en": "Yes, delete", "zh": "是，删除"},
    "button_forget_no": {"ru": "Нет", "en": "No", "zh": "否"},
    "forget_done": {
        "ru": "Ваши данные удалены. Если напишете снова, мы начнём с чистого листа.",
        "en": "Your data has been deleted. If you write again, we start from scratch.",
        "zh": "您的数据已删除。如果您再次留言，我们将从头开始。",
    },
    "forget_nothing": {
        "ru": "У нас нет ваших данных.",
        "en": "We hold no data about you.",
        "zh": "我们没有您的数据。",
    },
    "forget_kept": {
        "ru": "Хорошо, ничего не удалено.",
        "en": "All right, nothing was deleted.",
        "zh": "好的，未删除任何内容。",
    },
    "flood_notice": {
        "ru": (
            "Вы пишете очень часто. Не волнуйтесь: все ваши сообщения сохранены и дойдут до "
            "магазина, просто чуть медленнее."
        ),
        "en": (
            "You are writing very fast. Don't worry: every message you sent is kept and will "
            "reach the shop, just a little more slowly."
        ),
        "zh": "您发送得太快了。请放心：您发送的每条消息都已保存，都会送达店铺，只是会稍慢一些。",
    },
    "stale_button": {
        "ru": "Эта кнопка устарела. Задайте вопрос ещё раз.",
        "en": "This button is out of date. Please ask again.",
        "zh": "此按钮已失效，请重新提问。",
    },
    "product_chosen": {
        "ru": "Вопрос о товаре: {product}.",
        "en": "Your question is about: {product}.",
        "zh": "您咨询的商品：{product}。",
    },
    "button_helped": {
        "ru": "👍 Помогло",
        "en": "👍 That helped",
        "zh": "👍 有帮助",
    },
    "button_human": {
        "ru": "🙋 Связаться с человеком",
        "en": "🙋 Talk to a person",
        "zh": "🙋 联系人工客服",
    },
    "helped_thanks": {
        "ru": "Рады, что помогло!",
        "en": "Glad it helped!",
        "zh": "很高兴能帮到您！",
    },
    "case_opened": {
        "ru": (
            "Обращение №{number} передано сотрудникам магазина «{shop}». Ответ придёт сюда "
            "до {deadline}. Пишите сюда всё, что хотите добавить: фото, номер заказа."
        ),
        "en": (
            "Case #{number} is with {shop} staff. The answer will come here by {deadline}. "
            "Send here anything you want to add: photos, the order number."
        ),
        "zh": (
            "工单 #{number} 已转交{shop}客服，将于 {deadline} 前在此回复。"
            "如需补充（照片、订单号），请直接在此发送。"
        ),
    },
    "case_already_open": {
        "ru": "Обращение №{number} уже открыто: напишите сюда, и сотрудники увидят сообщение.",
        "en": "Case #{number} is already open: write here and the staff will see it.",
        "zh": "工单 #{number} 已在处理中：请直接在此留言，客服会看到。",
    },
    "case_reopened": {
        "ru": "Обращение №{number} снова открыто.",
        "en": "Case #{number} is open again.",
        "zh": "工单 #{number} 已重新打开。",
    },
    "case_closed_rate": {
        "ru": "Обращение №{number} закрыто. Оцените, пожалуйста, помощь от 1 до 5:",
        "en": "Case #{number} is closed. Please rate the help from 1 to 5:",
        "zh": "工单 #{number} 已关闭。请为本次服务打分（1–5）：",
    },
    "rated_thanks": {
        "ru": "Спасибо за оценку! Если хотите, напишите комментарий одним сообщением или /skip.",
        "en": "Thank you for the rating! If you like, write a comment in one message, or /skip.",
        "zh": "感谢您的评分！如愿意，请用一条消息写下评论，或发送 /skip。",
    },
    "comment_thanks": {
        "ru": "Спасибо, комментарий передан магазину.",
        "en": "Thank you, your comment has been passed to the shop.",
        "zh": "谢谢，您的评论已转交店铺。",
    },
    "comment_skipped": {
        "ru": "Хорошо. Если появятся вопросы, просто напишите.",
        "en": "All right. If you have more questions, just write.",
        "zh": "好的。如有其他问题，请随时留言。",
    },
    "cases_none": {
        "ru": "У вас пока нет обращений.",
        "en": "You have no cases yet.",
        "zh": "您还没有工单。",
    },
    "cases_header": {
        "ru": "Ваши обращения:",
        "en": "Your cases:",
        "zh": "您的工单：",
    },
    "status_open": {
        "ru": "открыто",
        "en": "open",
        "zh": "处理中",
    },
    "status_closed": {
        "ru": "закрыто",
        "en": "closed",
        "zh": "已关闭",
    },
    "language_pick": {
        "ru": "Выберите язык:",
        "en": "Choose your language:",
        "zh": "请选择语言：",
    },
    "language_set": {
        "ru": "Язык: русский.",
        "en": "Language: English.",
        "zh": "语言：中文。",
    },
    "edited_prefix": {
        "ru": "✏️ Исправлено:",
        "en": "✏️ Edited:",
        "zh": "✏️ 已修改：",
    },
    "not_allowed": {
        "ru": "Это действие вам недоступно.",
        "en": "You cannot do this.",
        "zh": "您无权执行此操作。",
    },
    # ---------------------------------------------------------------- staff side
    # Shown in the seller's support chat, in the seller's first language.
    "card_title": {
        "ru": "Обращение №{number}",
        "en": "Case #{number}",
        "zh": "工单 #{number}",
    },
    "card_buyer": {"ru": "Покупатель", "en": "Buyer", "zh": "买家"},
    "card_language": {"ru": "Язык", "en": "Language", "zh": "语言"},
    "card_shop": {"ru": "Магазин", "en": "Shop", "zh": "店铺"},
    "card_product": {"ru": "Товар", "en": "Product", "zh": "商品"},
    "card_orders": {"ru": "Заказ", "en": "Order", "zh": "订单"},
    "card_question": {"ru": "Вопрос", "en": "Question", "zh": "问题"},
    "card_answered": {"ru": "Бот ответил", "en": "The bot answered", "zh": "机器人已回答"},
    "card_near": {
        "ru": "Близкие записи FAQ",
        "en": "FAQ entries that came close",
        "zh": "相近的常见问题",
    },
    "card_none": {"ru": "нет", "en": "none", "zh": "无"},
    "card_help": {
        "ru": (
            "Пишите в эту тему: сообщения уйдут покупателю от имени магазина. /note — заметка для "
            "коллег, /t &lt;шаблон&gt; — быстрый ответ."
        ),
        "en": (
            "Write in this topic: messages go to the buyer under the shop's name. /note for "
            "colleagues, /t &lt;template&gt; for a quick reply."
        ),
        "zh": (
            "在此话题中回复的消息将以店铺名义发给买家。/note 为内部备注，/t &lt;模板&gt; 发送快捷"
            "回复。"
        ),
    },
    "card_help_plain": {
        "ru": (
            "Отвечайте ответом (reply) на сообщения этого обращения: они уйдут покупателю от "
            "имени магазина. /note — заметка, /t &lt;шаблон&gt; — быстрый ответ."
        ),
        "en": (
            "Answer by replying to this case's messages: replies go to the buyer under the shop's "
            "name. /note for colleagues, /t &lt;template&gt; for a quick reply."
        ),
        "zh": (
            "请回复（reply）本工单的消息，回复将以店铺名义发给买家。/note 为内部备注，/t &lt;模板&"
            "gt; 发送快捷回复。"
        ),
    },
    "button_claim": {"ru": "Взять", "en": "Claim", "zh": "认领"},
    "button_close": {"ru": "Закрыть", "en": "Close", "zh": "关闭"},
    "button_templates": {"ru": "Шаблоны", "en": "Templates", "zh": "模板"},
    "staff_claimed": {
        "ru": "Обращение №{number} взял(а) {name}.",
        "en": "Case #{number} claimed by {name}.",
        "zh": "工单 #{number} 已由 {name} 认领。",
    },
    "staff_claimed_already": {
        "ru": "Обращение уже взял другой сотрудник.",
        "en": "Someone else has already claimed this case.",
        "zh": "该工单已被其他同事认领。",
    },
    "staff_closed": {
        "ru": "Обращение №{number} закрыто ({name}). Покупателя попросили оценить помощь.",
        "en": "Case #{number} closed by {name}. The buyer is asked to rate it.",
        "zh": "工单 #{number} 已由 {name} 关闭，已邀请买家评分。",
    },
    "staff_reopened": {
        "ru": "Обращение №{number} снова открыто ({name}).",
        "en": "Case #{number} reopened by {name}.",
        "zh": "工单 #{number} 已由 {name} 重新打开。",
    },
    "staff_reopened_by_buyer": {
        "ru": "Покупатель ответил в закрытом обращении №{number}: оно снова открыто.",
        "en": "The buyer replied in closed case #{number}: it is open again.",
        "zh": "买家在已关闭的工单 #{number} 中回复，工单已重新打开。",
    },
    "staff_cannot_reopen": {
        "ru": "Нельзя открыть: у покупателя уже есть открытое обращение в этом магазине.",
        "en": "Cannot reopen: the buyer already has an open case with this shop.",
        "zh": "无法重新打开：该买家在本店已有处理中的工单。",
    },
    "staff_already_open": {
        "ru": "Обращение и так открыто.",
        "en": "The case is already open.",
        "zh": "工单已处于打开状态。",
    },
    "staff_case_closed": {
        "ru": (
            "Обращение №{number} закрыто, покупатель этого не получил. Отправьте /reopen, чтобы "
            "продолжить."
        ),
        "en": "Case #{number} is closed; the buyer did not get this. Send /reopen to continue.",
        "zh": "工单 #{number} 已关闭，买家未收到此消息。发送 /reopen 以继续。",
    },
    "staff_rating": {
        "ru": "⭐ Покупатель оценил обращение №{number}: {rating}/5.",
        "en": "⭐ The buyer rated case #{number}: {rating}/5.",
        "zh": "⭐ 买家为工单 #{number} 打分：{rating}/5。",
    },
    "staff_comment": {
        "ru": "💬 Комментарий покупателя к оценке:\n{comment}",
        "en": "💬 The buyer's comment on the rating:\n{comment}",
        "zh": "💬 买家的评价留言：\n{comment}",
    },
    "staff_note_saved": {
        "ru": "📝 Заметка сохранена, покупатель её не видит.",
        "en": "📝 Note saved; the buyer does not see it.",
        "zh": "📝 备注已保存，买家看不到。",
    },
    "staff_note_usage": {
        "ru": "Напишите текст заметки после /note.",
        "en": "Write the note after /note.",
        "zh": "请在 /note 后写备注内容。",
    },
    "staff_templates": {
        "ru": "Шаблоны ответов (уйдут покупателю на его языке):",
        "en": "Quick replies (sent in the buyer's language):",
        "zh": "快捷回复（将以买家的语言发送）：",
    },
    "staff_no_templates": {
        "ru": "У магазина нет шаблонов (templates.yaml).",
        "en": "The shop has no templates (templates.yaml).",
        "zh": "店铺没有快捷回复模板（templates.yaml）。",
    },
    "staff_unknown_template": {
        "ru": "Нет шаблона «{template}». Есть: {known}.",
        "en": "No template “{template}”. Known: {known}.",
        "zh": "没有模板“{template}”。可用：{known}。",
    },
    "staff_template_sent": {
        "ru": "Отправлен шаблон «{template}»:\n{text}",
        "en": "Sent template “{template}”:\n{text}",
        "zh": "已发送模板“{template}”：\n{text}",
    },
    "staff_hint_general": {
        "ru": (
            "Здесь нет обращения. Покупателям отвечают в темах обращений; там же работают /note, "
            "/t, /claim, /close, /reopen."
        ),
        "en": (
            "This is no case. Buyers are answered in the cases' topics, where /note, /t, /claim, "
            "/close and /reopen work."
        ),
        "zh": (
            "这里不是工单。请在工单话题中回复买家，/note、/t、/claim、/close、/reopen 也在话题中使"
            "用。"
        ),
    },
    "staff_hint_plain": {
        "ru": "Чтобы ответить покупателю, ответьте (reply) на сообщение обращения.",
        "en": "To answer a buyer, reply to a message of their case.",
        "zh": "如需回复买家，请回复（reply）该工单的某条消息。",
    },
    "staff_not_staff": {
        "ru": "Действовать в обращениях могут только сотрудники магазина.",
        "en": "Only the shop's staff act on its cases.",
        "zh": "只有店铺客服可以处理工单。",
    },
    "staff_buyer_blocked": {
        "ru": "⛔ Покупатель заблокировал бота: сообщения до него не доходят.",
        "en": "⛔ The buyer has blocked the bot: messages do not reach them.",
        "zh": "⛔ 买家已屏蔽机器人，消息无法送达。",
    },
    "staff_buyer_forgotten": {
        "ru": (
            "🗑 Покупатель удалил свои данные (/forget_me): обращение №{number} закрыто, "
            "ответы до него больше не дойдут."
        ),
        "en": (
            "🗑 The buyer deleted their data (/forget_me): case #{number} is closed and replies "
            "can no longer reach them."
        ),
        "zh": "🗑 买家已删除其数据（/forget_me）：工单 #{number} 已关闭，回复将无法再送达买家。",
    },
    "staff_buyer_edited": {
        "ru": "✏️ Покупатель исправил сообщение:\n{text}",
        "en": "✏️ The buyer edited the message:\n{text}",
        "zh": "✏️ 买家修改了消息：\n{text}",
    },
    "staff_topic_recreated": {
        "ru": "Тема обращения №{number} была удалена; обращение продолжается здесь.",
        "en": "The topic of case #{number} was deleted; the case continues here.",
        "zh": "工单 #{number} 的话题已被删除，工单在此继续。",
    },
    "staff_no_topic_rights": {
        "ru": (
            "У бота нет права управлять темами, поэтому обращение №{number} ведётся в общем чате: "
            "отвечайте (reply) на его сообщения. Дайте боту право «Управление темами»."
        ),
        "en": (
            "The bot has no right to manage topics, so case #{number} continues in the main chat: "
            "reply to its messages. Give the bot the “Manage topics” right."
        ),
        "zh": (
            "机器人没有管理话题的权限，工单 #{number} 将在主聊天中继续：请回复其消息。请授予机器人"
            "“管理话题”权限。"
        ),
    },
    "admin_no_topic_rights": {
        "ru": (
            "Магазин {seller}: у бота нет права управлять темами в чате {chat}. Обращение "
            "№{number} ведётся без темы."
        ),
        "en": (
            "Shop {seller}: the bot has no right to manage topics in chat {chat}. Case #{number} "
            "continues without a topic."
        ),
        "zh": (
            "店铺 {seller}：机器人在聊天 {chat} 中没有管理话题的权限。工单 #{number} 将不使用话题"
            "继续。"
        ),
    },
    # ------------------------------------------------------------------ deadlines
    "unit_d": {"ru": "{n} д", "en": "{n} d", "zh": "{n}天"},
    "unit_h": {"ru": "{n} ч", "en": "{n} h", "zh": "{n}小时"},
    "unit_m": {"ru": "{n} мин", "en": "{n} min", "zh": "{n}分钟"},
    "unit_s": {"ru": "{n} с", "en": "{n} s", "zh": "{n}秒"},
    "sla_staff": {"ru": "сотрудники", "en": "staff", "zh": "各位客服"},
    "sla_owner": {"ru": "ответственный", "en": "case owner", "zh": "负责人"},
    # HTML: {who} is a mention, the other values are escaped by the caller.
    "sla_reminder": {
        "ru": (
            "⏰ Обращение №{number}: {who}, покупатель ждёт ответа уже {waited}. "
            "До срока ответа осталось {left}."
        ),
        "en": (
            "⏰ Case #{number}: {who}, the buyer has been waiting for {waited}. "
            "{left} left before the reply deadline."
        ),
        "zh": "⏰ 工单 #{number}：{who}，买家已等待 {waited}。距离回复期限还剩 {left}。",
    },
    "sla_overdue": {
        "ru": (
            "⏰ Обращение №{number}: {who}, покупатель ждёт ответа уже {waited}. "
            "Срок ответа пропущен на {late}."
        ),
        "en": (
            "⏰ Case #{number}: {who}, the buyer has been waiting for {waited}. "
            "The reply deadline passed {late} ago."
        ),
        "zh": "⏰ 工单 #{number}：{who}，买家已等待 {waited}。已超过回复期限 {late}。",
    },
    "staff_escalated": {
        "ru": (
            "🚨 Обращение №{number} без ответа дольше допустимого: "
            "администраторы платформы уведомлены."
        ),
        "en": "🚨 Case #{number} has gone unanswered too long: the platform admins have been told.",
        "zh": "🚨 工单 #{number} 超时未回复：已通知平台管理员。",
    },
    "staff_complaint": {
        "ru": (
            "🚨 Покупатель пожаловался на обращение №{number}: его видят администраторы платформы."
        ),
        "en": "🚨 The buyer complained about case #{number}: the platform admins are on it.",
        "zh": "🚨 买家投诉了工单 #{number}：平台管理员正在处理。",
    },
    "buyer_late": {
        "ru": (
            "Извините, магазин пока не ответил на обращение №{number}. Мы напомнили сотрудникам. "
            "Если хотите, пожалуйтесь администрации платформы."
        ),
        "en": (
            "Sorry, the shop has not answered case #{number} yet. We have reminded the staff. "
            "If you wish, you can complain to the platform."
        ),
        "zh": "抱歉，店铺尚未回复工单 #{number}。我们已提醒客服。如您愿意，可以向平台投诉。",
    },
    "button_complain": {"ru": "Пожаловаться", "en": "Complain", "zh": "投诉"},
    "complain_none": {
        "ru": "У вас нет обращений, на которые можно пожаловаться.",
        "en": "You have no case to complain about.",
        "zh": "您没有可投诉的工单。",
    },
    "complain_closed": {
        "ru": (
            "Обращение №{number} уже закрыто, поэтому жалобу на него подать нельзя. Если вопрос "
            "не решён, напишите сюда: откроется новое обращение."
        ),
        "en": (
            "Case #{number} is closed, so there is nothing to complain about there. If your "
            "problem is not solved, write here and a new case will be opened."
        ),
        "zh": "工单 #{number} 已关闭，无法投诉。如问题未解决，请直接在此留言，将为您创建新工单。",
    },
    "complain_unavailable": {
        "ru": "Жалобы пока не принимаются. Напишите сюда, и сотрудники магазина увидят сообщение.",
        "en": "Complaints are not accepted yet. Write here and the shop's staff will see it.",
        "zh": "暂不受理投诉。请直接在此留言，店铺客服会看到。",
    },
    "complain_sent": {
        "ru": "Жалоба на обращение №{number} передана администрации платформы.",
        "en": "Your complaint about case #{number} has been passed to the platform.",
        "zh": "您对工单 #{number} 的投诉已转交平台。",
    },
    "complain_already": {
        "ru": "Жалоба на обращение №{number} уже у администрации платформы.",
        "en": "The platform already has your complaint about case #{number}.",
        "zh": "平台已收到您对工单 #{number} 的投诉。",
    },
    "buyer_platform_joined": {
        "ru": "К обращению №{number} подключилась администрация платформы.",
        "en": "The platform's support has joined case #{number}.",
        "zh": "平台客服已加入工单 #{number}。",
    },
    "platform_signed": {
        "ru": "🛡 Администрация платформы: {text}",
        "en": "🛡 Platform support: {text}",
        "zh": "🛡 平台客服：{text}",
    },
    "platform_name": {"ru": "администрация платформы", "en": "platform support", "zh": "平台客服"},
    "staff_taken_over": {
        "ru": "🛡 Администрация платформы взяла обращение №{number} на себя.",
        "en": "🛡 The platform admins have taken over case #{number}.",
        "zh": "🛡 平台管理员已接管工单 #{number}。",
    },
    "staff_handed_back": {
        "ru": "Администрация платформы вернула обращение №{number} магазину.",
        "en": "The platform admins have handed case #{number} back to you.",
        "zh": "平台管理员已将工单 #{number} 交还给您。",
    },
    "staff_platform_said": {
        "ru": "Покупателю отправлено: {text}",
        "en": "Sent to the buyer: {text}",
        "zh": "已发送给买家：{text}",
    },
    # The admin chat (see bot.escalation.ADMIN_LANG).
    "admin_missed": {
        "ru": "Пропущен срок ответа: «{shop}», обращение №{number}",
        "en": "Reply deadline missed: {shop}, case #{number}",
        "zh": "超过回复期限：{shop}，工单 #{number}",
    },
    "admin_complaint": {
        "ru": "Жалоба покупателя: «{shop}», обращение №{number}",
        "en": "Buyer complaint: {shop}, case #{number}",
        "zh": "买家投诉：{shop}，工单 #{number}",
    },
    "admin_waiting_since": {"ru": "Ждёт ответа с", "en": "Waiting since", "zh": "等待开始于"},
    "admin_topic_link": {
        "ru": "Открыть тему обращения",
        "en": "Open the case topic",
        "zh": "打开工单话题",
    },
    "admin_help": {
        "ru": (
            "Ответьте на это сообщение командой /takeover, /resolve или /handback "
            "(или: /takeover {seller} {number})."
        ),
        "en": (
            "Reply to this message with /takeover, /resolve or /handback "
            "(or: /takeover {seller} {number})."
        ),
        "zh": (
            "回复此消息并发送 /takeover、/resolve 或 /handback（或：/takeover {seller} {number}）。"
        ),
    },
    "admin_history": {
        "ru": "История обращения №{number}:",
        "en": "History of case #{number}:",
        "zh": "工单 #{number} 的记录：",
    },
    "admin_only": {
        "ru": "Эта команда только для администраторов платформы.",
        "en": "This command is for platform admins only.",
        "zh": "此命令仅限平台管理员使用。",
    },
    "admin_which_case": {
        "ru": (
            "Какое обращение? Ответьте на сообщение о нём или укажите: /takeover <магазин> <номер>."
        ),
        "en": "Which case? Reply to a message about it, or name it: /takeover <seller> <number>.",
        "zh": "哪个工单？请回复相关消息，或指定：/takeover <店铺> <编号>。",
    },
    "admin_case_closed": {
        "ru": "Обращение №{number} закрыто.",
        "en": "Case #{number} is closed.",
        "zh": "工单 #{number} 已关闭。",
    },
    "admin_taken": {
        "ru": (
            "Обращение №{number} («{shop}») у вас: ваши сообщения здесь в ответ на сообщения "
            "о нём получит покупатель от имени платформы."
        ),
        "en": (
            "Case #{number} ({shop}) is yours: your messages here replying to its messages "
            "reach the buyer, signed as the platform."
        ),
        "zh": "工单 #{number}（{shop}）已由您接管：您在此回复其消息，买家将以平台名义收到。",
    },
    "admin_handed_back": {
        "ru": "Обращение №{number} возвращено магазину.",
        "en": "Case #{number} is back with the shop.",
        "zh": "工单 #{number} 已交还店铺。",
    },
    "admin_resolved": {
        "ru": "Обращение №{number} закрыто администрацией.",
        "en": "Case #{number} is resolved and closed.",
        "zh": "工单 #{number} 已由管理员关闭。",
    },
    "admin_take_first": {
        "ru": (
            "Чтобы написать покупателю, сначала ответьте на "
            "сообщение об обращении командой /takeover."
        ),
        "en": "To write to the buyer, first reply to a message about the case with /takeover.",
        "zh": "如需联系买家，请先回复工单消息并发送 /takeover。",
    },
    "topic_closed_mark": {"ru": "✅", "en": "✅", "zh": "✅"},
    # ------------------------------------------------------------------ returns (buyer)
    "return_ask_order": {
        "ru": (
            "Оформим заявку на возврат в «{shop}». Пришлите номер заказа из раздела «Заказы» "
            "Ozon, например 12345678-0001. /cancel — отменить; без ответа {minutes} мин "
            "заявка отменится сама."
        ),
        "en": (
            "Let's file a return request with {shop}. Send the order number from Ozon's "
            "Orders, e.g. 12345678-0001. /cancel to stop; after {minutes} min of silence "
            "the request is dropped."
        ),
        "zh": (
            "我们来向{shop}提交退货申请。请发送 Ozon“订单”中的订单号，例如 12345678-0001。"
            "发送 /cancel 取消；{minutes} 分钟无回复将自动取消。"
        ),
    },
    "return_bad_order": {
        "ru": (
            "Это не похоже на номер заказа Ozon. Он выглядит так: 12345678-0001 "
            "или 12345678-0001-1. Пришлите номер ещё раз или /cancel."
        ),
        "en": (
            "That does not look like an Ozon order number. It looks like 12345678-0001 "
            "or 12345678-0001-1. Please send it again, or /cancel."
        ),
        "zh": (
            "这不像 Ozon 订单号。格式如 12345678-0001 或 12345678-0001-1。"
            "请重新发送，或发送 /cancel。"
        ),
    },
    "return_ask_product": {
        "ru": "Какой товар вы возвращаете?",
        "en": "Which product are you returning?",
        "zh": "您要退哪件商品？",
    },
    "return_ask_product_text": {
        "ru": "Напишите название товара, который вы возвращаете.",
        "en": "Please type the name of the product you are returning.",
        "zh": "请输入您要退货的商品名称。",
    },
    "return_button_other": {"ru": "Другой товар", "en": "Other", "zh": "其他商品"},
    "return_ask_reason": {
        "ru": "Почему вы возвращаете товар?",
        "en": "Why are you returning it?",
        "zh": "退货原因是什么？",
    },
    "return_reason_defect": {"ru": "Брак", "en": "Defect", "zh": "质量问题"},
    "return_reason_wrong_item": {"ru": "Не тот товар", "en": "Wrong item", "zh": "发错商品"},
    "return_reason_not_as_described": {
        "ru": "Не соответствует описанию",
        "en": "Not as described",
        "zh": "与描述不符",
    },
    "return_reason_missing_parts": {
        "ru": "Некомплект",
        "en": "Missing parts",
        "zh": "缺少配件",
    },
    "return_reason_changed_mind": {
        "ru": "Передумал(а)",
        "en": "Changed my mind",
        "zh": "不想要了",
    },
    "return_ask_photos": {
        "ru": "Пришлите фото товара и проблемы (можно несколько). Без фото заявку не принять.",
        "en": "Please send photos of the item and the problem (several are fine). "
        "The request needs at least one.",
        "zh": "请发送商品及问题的照片（可多张）。至少需要一张照片。",
    },
    "return_ask_photos_optional": {
        "ru": "Можете прислать фото товара или нажать «Готово».",
        "en": "You may send photos of the item, or press Done.",
        "zh": "您可以发送商品照片，或点击“完成”。",
    },
    "return_photos_required": {
        "ru": "Для этой причины нужно хотя бы одно фото. Пришлите фото или /cancel.",
        "en": "This reason needs at least one photo. Please send a photo, or /cancel.",
        "zh": "此原因至少需要一张照片。请发送照片，或发送 /cancel。",
    },
    "return_photo_got": {
        "ru": "Фото получено ({count}). Пришлите ещё или нажмите «Готово».",
        "en": "Photo received ({count}). Send more, or press Done.",
        "zh": "已收到照片（{count}）。可继续发送，或点击“完成”。",
    },
    "return_button_done": {"ru": "Готово", "en": "Done", "zh": "完成"},
    "return_ask_comment": {
        "ru": "Добавьте комментарий для магазина или отправьте /skip.",
        "en": "Add a comment for the shop, or send /skip.",
        "zh": "请给店铺留言，或发送 /skip 跳过。",
    },
    "return_submitted": {
        "ru": "Заявка на возврат №{number} отправлена магазину. Решение — до {deadline}.",
        "en": (
            "Return request #{number} has been sent to the shop. A decision is due by {deadline}."
        ),
        "zh": "退货申请 #{number} 已提交给店铺。将在 {deadline} 前作出决定。",
    },
    "return_cancelled": {
        "ru": "Заявка на возврат отменена, магазину ничего не отправлено.",
        "en": "The return request was cancelled; nothing was sent to the shop.",
        "zh": "退货申请已取消，未向店铺发送任何内容。",
    },
    "return_nothing_to_cancel": {
        "ru": "Отменять нечего. Чтобы оформить возврат, отправьте /return.",
        "en": "There is nothing to cancel. To request a return, send /return.",
        "zh": "没有可取消的内容。如需退货，请发送 /return。",
    },
    "return_expired": {
        "ru": (
            "Заявка на возврат отменена: ответа не было больше {minutes} мин. "
            "Магазину ничего не отправлено. Начните заново: /return."
        ),
        "en": (
            "Your return request lapsed after more than {minutes} min without an answer; "
            "nothing was sent to the shop. Start again with /return."
        ),
        "zh": (
            "退货申请因超过 {minutes} 分钟未回复已取消，未向店铺发送任何内容。"
            "请发送 /return 重新开始。"
        ),
    },
    "return_already_open": {
        "ru": "Заявка на возврат №{number} уже на рассмотрении. Напишите в ответ на её сообщение.",
        "en": (
            "Return request #{number} is already being reviewed. Reply to its message to add to it."
        ),
        "zh": "退货申请 #{number} 正在处理中。如需补充，请回复该申请的消息。",
    },
    "return_approved": {
        "ru": "Заявка на возврат №{number} одобрена.\n\n{method}",
        "en": "Return request #{number} is approved.\n\n{method}",
        "zh": "退货申请 #{number} 已批准。\n\n{method}",
    },
    "return_method_address_buyer": {
        "ru": "Оформите возврат в приложении Ozon: «Заказы» → товар → «Вернуть».",
        "en": "Please file the return in the Ozon app: Orders → the item → Return.",
        "zh": "请在 Ozon 应用中办理退货：“订单”→选择商品→“退货”。",
    },
    "return_method_refund_buyer": {
        "ru": "Мы вернём деньги, товар возвращать не нужно.",
        "en": "We will refund you; there is no need to send the item back.",
        "zh": "我们将为您退款，无需退回商品。",
    },
    "return_method_replace_buyer": {
        "ru": "Мы отправим вам замену.",
        "en": "We will send you a replacement.",
        "zh": "我们将为您补发/换货。",
    },
    "return_rejected": {
        "ru": (
            "Заявка на возврат №{number} отклонена. Причина: {reason}\n\n"
            "Если вы не согласны, нажмите «Оспорить» — заявку рассмотрит администрация площадки."
        ),
        "en": (
            "Return request #{number} was rejected. Reason: {reason}\n\n"
            "If you disagree, press Dispute and the platform's admins will review it."
        ),
        "zh": (
            "退货申请 #{number} 被拒绝。原因：{reason}\n\n"
            "如有异议，请点击“申诉”，平台管理员将进行审核。"
        ),
    },
    "return_button_dispute": {"ru": "Оспорить", "en": "Dispute", "zh": "申诉"},
    "return_question": {
        "ru": (
            "По заявке на возврат №{number} магазин "
            "спрашивает:\n{question}\n\nОтветьте одним сообщением."
        ),
        "en": (
            "About return request #{number}, the shop "
            "asks:\n{question}\n\nPlease answer in one message."
        ),
        "zh": "关于退货申请 #{number}，店铺询问：\n{question}\n\n请用一条消息回复。",
    },
    "return_info_sent": {
        "ru": "Ответ передан магазину (заявка №{number}).",
        "en": "Your answer was passed to the shop (request #{number}).",
        "zh": "您的回复已转给店铺（申请 #{number}）。",
    },
    # ------------------------------------------------------------------ returns (staff)
    "return_subject": {"ru": "Возврат {order}", "en": "Return {order}", "zh": "退货 {order}"},
    "return_card_title": {
        "ru": "↩️ Заявка на возврат №{number}",
        "en": "↩️ Return request #{number}",
        "zh": "↩️ 退货申请 #{number}",
    },
    "return_card_reason": {"ru": "Причина", "en": "Reason", "zh": "原因"},
    "return_card_photos": {"ru": "Фото", "en": "Photos", "zh": "照片"},
    "return_card_comment": {"ru": "Комментарий", "en": "Comment", "zh": "留言"},
    "return_card_help": {
        "ru": "Одобрить, отклонить (с причиной) или запросить подробности — кнопками ниже.",
        "en": "Approve, reject (with a reason) or ask for more with the buttons below.",
        "zh": "请用下方按钮批准、拒绝（需说明原因）或要求补充信息。",
    },
    "return_button_approve": {"ru": "✅ Одобрить", "en": "✅ Approve", "zh": "✅ 批准"},
    "return_button_reject": {"ru": "❌ Отклонить", "en": "❌ Reject", "zh": "❌ 拒绝"},
    "return_button_more": {
        "ru": "❓ Запросить подробности",
        "en": "❓ Ask for more",
        "zh": "❓ 要求补充",
    },
    "return_method_address": {
        "ru": "Адрес возврата",
        "en": "Return address",
        "zh": "退货地址",
    },
    "return_method_refund": {
        "ru": "Деньги без возврата товара",
        "en": "Refund without return",
        "zh": "仅退款不退货",
    },
    "return_method_replace": {"ru": "Замена", "en": "Replacement", "zh": "换货"},
    "return_staff_pick_method": {
        "ru": "{name} одобряет возврат. Выберите способ:",
        "en": "{name} approves the return. Choose the method:",
        "zh": "{name} 批准退货。请选择方式：",
    },
    "return_staff_decided": {
        "ru": "По этой заявке решение уже принято.",
        "en": "This request has already been decided.",
        "zh": "此申请已作出决定。",
    },
    "return_staff_approved": {
        "ru": "✅ {name} одобрил(а) возврат ({method}); покупатель уведомлён.",
        "en": "✅ {name} approved the return ({method}); the buyer was told.",
        "zh": "✅ {name} 已批准退货（{method}），已通知买家。",
    },
    "return_staff_reject_ask": {
        "ru": "Напишите причину отказа следующим сообщением в этой теме (или /reject причина).",
        "en": "Write the reason for rejecting as your next message here (or /reject <reason>).",
        "zh": "请在本话题中发送拒绝原因（或 /reject 原因）。",
    },
    "return_staff_reject_usage": {
        "ru": "Укажите причину: /reject причина",
        "en": "Give the reason: /reject <reason>",
        "zh": "请说明原因：/reject 原因",
    },
    "return_staff_rejected": {
        "ru": "❌ {name} отклонил(а) возврат; покупатель уведомлён и может оспорить.",
        "en": "❌ {name} rejected the return; the buyer was told and may dispute it.",
        "zh": "❌ {name} 已拒绝退货，已通知买家，买家可申诉。",
    },
    "return_staff_more_ask": {
        "ru": "Напишите вопрос покупателю следующим сообщением в этой теме.",
        "en": "Write your question for the buyer as your next message here.",
        "zh": "请在本话题中发送要问买家的问题。",
    },
    "return_staff_asked": {
        "ru": "Вопрос отправлен покупателю; его ответ придёт сюда.",
        "en": "The question was sent to the buyer; their answer will appear here.",
        "zh": "问题已发送给买家，回复将显示在这里。",
    },
    "return_staff_not_return": {
        "ru": "/reject работает только в открытой заявке на возврат.",
        "en": "/reject works only in an open return request.",
        "zh": "/reject 仅适用于未结束的退货申请。",
    },
    # ------------------------------------------------------------------ daily digest
    "digest_title": {
        "ru": "📋 Сводка «{shop}» на {day}",
        "en": "📋 {shop} daily digest, {day}",
        "zh": "📋 {shop} 每日汇总（{day}）",
    },
    "digest_open": {
        "ru": "Открытых обращений: {n}",
        "en": "Open cases: {n}",
        "zh": "未结案件：{n}",
    },
    "digest_overdue": {"ru": "Просрочено: {n}", "en": "Overdue: {n}", "zh": "已超时：{n}"},
    "digest_closed": {
        "ru": "Закрыто за сутки: {n}",
        "en": "Closed in the last day: {n}",
        "zh": "过去一天结案：{n}",
    },
    "digest_rating": {
        "ru": "Средняя оценка за сутки: {rating}",
        "en": "Average rating in the last day: {rating}",
        "zh": "过去一天平均评分：{rating}",
    },
    "digest_no_gaps": {
        "ru": "Вопросов без ответа FAQ за сутки не было.",
        "en": "The FAQ answered every question in the last day.",
        "zh": "过去一天 FAQ 回答了所有问题。",
    },
    "digest_gaps": {
        "ru": "FAQ не ответил на {n} вопрос(ов); стоит добавить записи:",
        "en": "The FAQ could not answer {n} question(s); entries worth adding:",
        "zh": "FAQ 有 {n} 个问题未能回答，建议添加条目：",
    },
    "digest_more_gaps": {
        "ru": "…и ещё групп: {n}",
        "en": "…and {n} more group(s)",
        "zh": "……另有 {n} 组",
    },
}

LANGUAGES = ("ru", "en", "zh")
#: How each language calls itself, for the /language buttons.
LANGUAGE_NAMES = {"ru": "Русский", "en": "English", "zh": "中文"}


def pick_language(*candidates: str | None) -> str:
    """The first candidate the bot speaks (``ru-RU`` counts as ``ru``); else English."""
    for candidate in candidates:
        if candidate:
            code = candidate.split("-")[0].lower()
            if code in LANGUAGES:
                return code
    return "en"


def text(key: str, lang: str, **values: str) -> str:
    """The text ``key`` in ``lang`` (English when missing), with values filled in."""
    variants = TEXTS[key]
    return variants.get(lang, variants["en"]).format(**values)
