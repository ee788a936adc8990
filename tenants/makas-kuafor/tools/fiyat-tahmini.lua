-- Makas Kuaför: price_estimate — what a hair service costs for a given hair length.
--
-- The list prices of colour, highlights, balayage, keratin and hair masks are for short hair;
-- longer hair takes more product and time. The base price always comes from the catalog
-- (ctx.catalog.find), so a price change in data/offerings.json changes the estimate too; only the
-- length surcharges live here (the same ones the "boya-uzunluk" knowledge entry tells customers).

local LENGTHS = {
  kisa = "kisa", short = "kisa",
  orta = "orta", medium = "orta",
  uzun = "uzun", long = "uzun",
  ["cok-uzun"] = "cok-uzun", ["very-long"] = "cok-uzun",
}

local LENGTH_NAMES = {
  tr = { kisa = "kısa", orta = "orta (omuz hizası)", uzun = "uzun (omuz altı)", ["cok-uzun"] = "çok uzun (bel hizası)" },
  en = { kisa = "short", orta = "medium (shoulder length)", uzun = "long (below the shoulders)",
         ["cok-uzun"] = "very long (waist length)" },
}

-- Surcharge factor and extra minutes by catalog category and hair length.
local BY_CATEGORY = {
  ["Renk"]  = { kisa = { 1.00, 0 }, orta = { 1.25, 20 }, uzun = { 1.50, 40 }, ["cok-uzun"] = { 1.80, 60 } },
  ["Bakım"] = { kisa = { 1.00, 0 }, orta = { 1.20, 15 }, uzun = { 1.40, 30 }, ["cok-uzun"] = { 1.60, 45 } },
  ["Saç"]   = { kisa = { 1.00, 0 }, orta = { 1.00, 0 },  uzun = { 1.15, 10 }, ["cok-uzun"] = { 1.30, 20 } },
}

-- Salon prices are quoted in round 50s.
local function round50(x)
  return math.floor(x / 50 + 0.5) * 50
end

local function money(amount, currency)
  if currency == "TRY" then return string.format("%d TL", amount) end
  return string.format("%d %s", amount, currency)
end

local function first_service(ctx, query)
  local found = ctx.catalog.find(query, 10) or {}
  for _, item in ipairs(found) do
    if item.available ~= false and item.category ~= "Ürün" and item.category ~= "Hediye" then
      return item
    end
  end
  return nil
end

return tezgah.tool {
  name = "price_estimate",
  description = "Estimated price of a hair service (colour, balayage, highlights, keratin, cut) "
    .. "for the customer's hair length. Saç uzunluğuna göre tahmini hizmet fiyatı.",
  parameters = {
    type = "object",
    properties = {
      service = { type = "string", minLength = 2, maxLength = 80,
                  description = "the service, e.g. 'balyaj', 'tüm boya', 'keratin', 'highlights'" },
      hair_length = { type = "string",
                      enum = { "kisa", "orta", "uzun", "cok-uzun", "short", "medium", "long", "very-long" },
                      -- "Title: values: Turkish names / English names; ...": the names a customer
                      -- may use, and the choices offered when the assistant asks for the length.
                      description = "Saç uzunluğu / Hair length: "
                        .. "kisa, short: kısa / short; "
                        .. "orta, medium: orta, omuz hizası, omuza kadar / medium, shoulder length; "
                        .. "uzun, long: uzun, omuz altı / long, below the shoulders; "
                        .. "cok-uzun, very-long: çok uzun, bel hizası, bele kadar / very long, waist length" },
    },
    required = { "service", "hair_length" },
  },
  -- What customers write when they want this estimate (the offline assistant matches them).
  examples = {
    "uzun saça balyaj kaç para",
    "omuz altı saça röfle ne kadar tutar",
    "bel hizası saça keratin fiyatı",
    "saç uzunluğuma göre boya fiyatı",
    "highlights for long hair price",
    "how much is balayage for shoulder length hair",
    "keratin price for very long hair",
  },

  run = function(ctx, args)
    local lang = ctx.language == "en" and "en" or "tr"
    local service = first_service(ctx, args.service)
    if not service then
      return {
        found = false,
        message = lang == "en"
          and ("We have no service called '" .. args.service .. "'. Length-priced services: colour, balayage, highlights, keratin, hair mask.")
          or ("'" .. args.service .. "' adında bir hizmetimiz yok. Uzunluğa göre fiyatlanan hizmetler: boya, balyaj, röfle, keratin, saç maskesi."),
      }
    end

    local length = LENGTHS[args.hair_length]
    local table_for = BY_CATEGORY[service.category]
    local factor, extra_min = 1.0, 0
    if table_for then
      factor, extra_min = table_for[length][1], table_for[length][2]
    end
    local price = round50(service.price * factor)
    local length_matters = table_for ~= nil and factor ~= 1.0

    local note
    if lang == "en" then
      note = length_matters
        and string.format("%s for %s hair: about %s (list price %s for short hair). Our stylist confirms the exact price on seeing your hair.",
              service.name, LENGTH_NAMES.en[length], money(price, service.currency),
              money(math.floor(service.price), service.currency))
        or string.format("%s costs %s; hair length does not change the price.",
              service.name, money(price, service.currency))
    else
      note = length_matters
        and string.format("%s, %s saç için yaklaşık %s (kısa saç liste fiyatı %s). Kesin fiyatı uzmanımız saçınızı görünce söyler.",
              service.name, LENGTH_NAMES.tr[length], money(price, service.currency),
              money(math.floor(service.price), service.currency))
        or string.format("%s: %s; saç uzunluğu fiyatı değiştirmez.", service.name, money(price, service.currency))
    end

    return {
      found = true,
      service = service.name,
      service_id = service.id,
      hair_length = length,
      price = price,
      list_price = service.price,
      currency = service.currency,
      extra_minutes = extra_min,
      length_matters = length_matters,
      message = note,
    }
  end,
}
