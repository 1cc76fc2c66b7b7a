"""Where buyers write besides the bot's own chat: each channel only receives and sends;
the desk's rules are the same for all (``bot.desk``)."""
