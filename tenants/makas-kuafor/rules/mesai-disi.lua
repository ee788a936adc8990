-- Makas Kuaför: out-of-hours answers.
--
-- While the salon is closed (ctx.is_closed()):
--   * a customer who wants to book, or to talk to someone, is told at once when the salon opens
--     next (the assistant cannot book for them at night, so we do not make them wait for one);
--   * any other question is answered as usual, and the first reply of the closed period gets a
--     one-line note saying when we open again.
-- The note is given once per closed period and conversation (remembered in ctx.session).
--
-- The hours and time zone are the manifest's (business.hours, locale.timezone), through
-- ctx.next_opening(); nothing here needs changing when the hours do.

-- Words that mean "I want a booking" or "I want a person" (compared after Turkish folding).
local BOOKING_WORDS = {
  "randevu", "rezervasyon", "yer ayirt", "musait", "bos saat", "yetkili", "gorusmek",
  "appointment", "book", "reservation", "free slot", "speak to", "talk to",
}

-- How a reply says the salon is closed now (compared after Turkish folding).
local ALREADY_SAID = { "su an kapali", "closed right now", "closed now" }

local function language(ctx)
  if ctx.language == "en" then return "en" end
  return "tr"
end

-- "yarın saat 09:30", "on Tuesday at 09:30" for an opening from ctx.next_opening().
local function when_text(lang, opening)
  if opening.today then
    return lang == "en" and ("today at " .. opening.time) or ("bugün saat " .. opening.time)
  elseif opening.tomorrow then
    return lang == "en" and ("tomorrow at " .. opening.time) or ("yarın saat " .. opening.time)
  end
  return lang == "en" and ("on " .. opening.day_name_en .. " at " .. opening.time)
    or (opening.day_name_tr .. " günü saat " .. opening.time)
end

-- Identifies one closed period (by the opening that ends it), so the note is not repeated within it but is given again
-- the next time the salon is closed.
local function period_key(opening)
  return opening.date .. " " .. opening.time
end

return tezgah.rule {
  name = "mesai-disi",

  on_message = function(ctx, msg)
    if not ctx.is_closed() then return nil end
    local opening = ctx.next_opening()
    if not opening then return nil end
    if not tezgah.mentions(msg.text, BOOKING_WORDS) then return nil end

    local session = ctx.session or {}
    session.mesai_disi_notu = period_key(opening)
    local lang = language(ctx)
    ctx.log("out-of-hours booking request; next opening " .. opening.wday .. " " .. opening.time)
    if lang == "en" then
      return ctx.reply("We are closed right now; we open again " .. when_text(lang, opening) ..
        ". To book, call +90 232 555 03 03 or leave your name, phone and the service you want " ..
        "here, and we will confirm first thing.")
    end
    return ctx.reply("Şu an kapalıyız; yeniden açılışımız " .. when_text(lang, opening) .. ". " ..
      "Randevu için +90 232 555 03 03'ü arayabilir ya da adınızı, telefonunuzu ve istediğiniz " ..
      "hizmeti buraya yazabilirsiniz; açılışta ilk iş dönüş yaparız.")
  end,

  on_reply = function(ctx, reply)
    if not ctx.is_closed() then return nil end
    local opening = ctx.next_opening()
    if not opening then return nil end
    local session = ctx.session or {}
    local key = period_key(opening)
    if session.mesai_disi_notu == key then return nil end
    -- A reply that already says we are closed now ("şu an açık mısınız") needs no note.
    if tezgah.mentions(reply, ALREADY_SAID) then return nil end
    session.mesai_disi_notu = key

    local lang = language(ctx)
    if lang == "en" then
      return reply .. "\n\n(We are closed right now and open again " .. when_text(lang, opening) .. ".)"
    end
    return reply .. "\n\n(Şu an kapalıyız; yeniden açılışımız " .. when_text(lang, opening) .. ".)"
  end,
}
