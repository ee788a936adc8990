-- Lezzet Fırını: the morning's special.
--
-- Between opening and 11:00, the first reply of the day in a conversation ends with that day's
-- special offer, but only while the product is in stock (checked in the catalog) and not when the
-- customer is complaining or asking about allergies. Remembered per day in ctx.session.
-- "11:00" and "the day" are the bakery's local time (ctx.local_time(), in the manifest's time zone).

local UNTIL_HOUR = 11

-- By weekday (ctx.local_time().wday); none on Sunday, when the bakery is closed. `id` is the
-- offering that must be in stock.
local SPECIALS = {
  mon = { id = "simit", query = "simit",
          tr = "Pazartesi fırsatı: simit + çay 25 TL.", en = "Monday special: simit and tea for 25 TL." },
  tue = { id = "peynirli-pogaca", query = "peynirli poğaça",
          tr = "Salı fırsatı: 3 peynirli poğaça 60 TL.", en = "Tuesday special: 3 cheese pogacas for 60 TL." },
  wed = { id = "su-boregi", query = "su böreği",
          tr = "Çarşamba fırsatı: su böreği + çay 90 TL.", en = "Wednesday special: water borek and tea for 90 TL." },
  thu = { id = "tahinli-corek", query = "tahinli çörek",
          tr = "Perşembe fırsatı: 2 tahinli çörek 60 TL.", en = "Thursday special: 2 tahini buns for 60 TL." },
  fri = { id = "eksi-mayali-ekmek", query = "ekşi mayalı köy ekmeği",
          tr = "Cuma fırsatı: ekşi mayalı köy ekmeği 80 TL.", en = "Friday special: sourdough country loaf for 80 TL." },
  sat = { id = "cevizli-kurabiye", query = "cevizli kurabiye",
          tr = "Cumartesi fırsatı: 250 g cevizli kurabiye 100 TL.", en = "Saturday special: 250 g walnut cookies for 100 TL." },
}

local QUIET_WORDS = {
  "sikayet", "zehirlen", "bozuk", "kotu", "iade", "alerji",
  "complain", "poison", "spoiled", "refund", "allerg",
}

local function in_stock(ctx, special)
  for _, item in ipairs(ctx.catalog.find(special.query, 10) or {}) do
    if item.id == special.id then
      return item.available ~= false and (item.stock == nil or item.stock > 0)
    end
  end
  return false
end

return tezgah.rule {
  name = "gunun-firsati",

  on_message = function(ctx, msg)
    local session = ctx.session or {}
    session.firsat_sessiz = tezgah.mentions(msg.text, QUIET_WORDS)
    return nil
  end,

  on_reply = function(ctx, reply)
    local session = ctx.session or {}
    local quiet = session.firsat_sessiz == true
    session.firsat_sessiz = nil
    if quiet or ctx.is_closed() then return nil end

    local now = ctx.local_time()
    if now.hour >= UNTIL_HOUR then return nil end
    local special = SPECIALS[now.wday]
    if not special then return nil end

    local today = now.date
    if session.gunun_firsati == today then return nil end
    if not in_stock(ctx, special) then return nil end
    session.gunun_firsati = today

    local lang = ctx.language == "en" and "en" or "tr"
    return reply .. "\n\n" .. special[lang]
  end,
}
