"""End-to-end: buyers writing through channels other than the bot's chat (Telegram Business,
Ozon buyer chats, Ozon product questions), against the Bot API and Ozon doubles."""
