-- Makas Kuaför: out-of-hours answers.
--
-- While the salon is closed (ctx.is_closed()):
--   * a customer who wants to book, or to talk to someone, is told at once when the salon opens
--     next (the assistant cannot book for them at night, so we do not make them wait for one);
--   * any other question is answered as usual, and the first reply of the closed period gets a
--     one-line note saying when we open again.
-- The note is given once per closed period and conversation (remembered in ctx.session).
--
-- HOURS mirrors business.hours in tenant.json (a rule cannot read the manifest); keep them equal.
-- Times are computed in Europe/Istanbul, which is UTC+3 all year since 2016.

local UTC_OFFSET = 3 * 3600

local HOURS = {
  mon = nil,  -- closed
  tue = { "09:30", "19:30" },
  wed = { "09:30", "19:30" },
  thu = { "09:30", "19:30" },
  fri = { "09:30", "19:30" },
  sat = { "09:30", "19:30" },
  sun = { "11:00", "17:00" },
}

local DAY_KEYS = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" }  -- os.date wday order
local DAY_NAMES = {
  tr = { sun = "Pazar", mon = "Pazartesi", tue = "Salı", wed = "Çarşamba", thu = "Perşembe",
         fri = "Cuma", sat = "Cumartesi" },
  en = { sun = "Sunday", mon = "Monday", tue = "Tuesday", wed = "Wednesday", thu = "Thursday",
         fri = "Friday", sat = "Saturday" },
}

-- Words that mean "I want a booking" or "I want a person" (compared after Turkish folding).
local BOOKING_WORDS = {
  "randevu", "rezervasyon", "yer ayirt", "musait", "bos saat", "yetkili", "gorusmek",
  "appointment", "book", "reservation", "free slot", "speak to", "talk to",
}

local FOLD = {
  ["İ"] = "i", ["ı"] = "i", ["Ş"] = "s", ["ş"] = "s", ["Ğ"] = "g", ["ğ"] = "g",
  ["Ü"] = "u", ["ü"] = "u", ["Ö"] = "o", ["ö"] = "o", ["Ç"] = "c", ["ç"] = "c",
  ["Â"] = "a", ["â"] = "a", ["Î"] = "i", ["î"] = "i", ["Û"] = "u", ["û"] = "u",
}

-- Lower-case ASCII without Turkish letters, so "RANDEVU" and "Müsait" match the words above.
local function fold(text)
  local s = string.sub(text or "", 1, 2000)
  s = string.gsub(s, "[\195\196\197][\128-\191]", FOLD)
  return string.lower(s)
end

local function mentions_any(text, words)
  for _, w in ipairs(words) do
    if string.find(text, w, 1, true) then return true end
  end
  return false
end

local function minutes(hhmm)
  local h, m = string.match(hhmm, "^(%d%d):(%d%d)$")
  return tonumber(h) * 60 + tonumber(m)
end

local function language(ctx)
  if ctx.language == "en" then return "en" end
  return "tr"
end

local function now_epoch(ctx)
  local t = ctx.now()
  if type(t) == "number" then return t end
  return os.time()
end

-- The next opening as {days_ahead, day_key, time}, searching from the local time `epoch`.
local function next_opening(epoch)
  local lt = os.date("!*t", epoch + UTC_OFFSET)
  local now_min = lt.hour * 60 + lt.min
  for ahead = 0, 7 do
    local key = DAY_KEYS[(lt.wday - 1 + ahead) % 7 + 1]
    local h = HOURS[key]
    if h and (ahead > 0 or now_min < minutes(h[1])) then
      return { days_ahead = ahead, day = key, time = h[1] }
    end
  end
  return nil
end

local function when_text(lang, opening)
  if opening.days_ahead == 0 then
    return lang == "en" and ("today at " .. opening.time) or ("bugün saat " .. opening.time)
  elseif opening.days_ahead == 1 then
    return lang == "en" and ("tomorrow at " .. opening.time) or ("yarın saat " .. opening.time)
  end
  local day = DAY_NAMES[lang][opening.day]
  return lang == "en" and ("on " .. day .. " at " .. opening.time) or (day .. " günü saat " .. opening.time)
end

-- Identifies one closed period (by the opening that ends it), so the note is not repeated within it but is given again
-- the next time the salon is closed.
local function period_key(epoch, opening)
  return os.date("!%Y-%m-%d", epoch + UTC_OFFSET + opening.days_ahead * 24 * 3600) .. " " .. opening.time
end

return tezgah.rule {
  name = "mesai-disi",

  on_message = function(ctx, msg)
    if not ctx.is_closed() then return nil end
    local epoch = now_epoch(ctx)
    local opening = next_opening(epoch)
    if not opening then return nil end
    if not mentions_any(fold(msg.text), BOOKING_WORDS) then return nil end

    local session = ctx.session or {}
    session.mesai_disi_notu = period_key(epoch, opening)
    local lang = language(ctx)
    ctx.log("out-of-hours booking request; next opening " .. opening.day .. " " .. opening.time)
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
    local epoch = now_epoch(ctx)
    local opening = next_opening(epoch)
    if not opening then return nil end
    local session = ctx.session or {}
    local key = period_key(epoch, opening)
    if session.mesai_disi_notu == key then return nil end
    session.mesai_disi_notu = key

    local lang = language(ctx)
    if lang == "en" then
      return reply .. "\n\n(We are closed right now and open again " .. when_text(lang, opening) .. ".)"
    end
    return reply .. "\n\n(Şu an kapalıyız; yeniden açılışımız " .. when_text(lang, opening) .. ".)"
  end,
}
