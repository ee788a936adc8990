-- Lezzet Fırını: cake_order_quote — the price of a cake to order and the earliest pickup.
--
-- Price: the cake's price per kg from the catalog (category "Sipariş Pasta") times the weight,
-- rounded to half kilograms, plus 250 TL for a photo printed on edible paper; half is paid as a
-- deposit. Pickup: a cake takes two full working days. The count starts at the next moment the
-- bakery is open (an order sent at night or on Sunday starts the next morning), the closed day
-- (Sunday) does not count, and the pickup falls within opening hours.
--
-- The hours and time zone are the manifest's (business.hours, locale.timezone), read through
-- ctx.hours, ctx.is_closed, ctx.local_time and ctx.next_opening.

local DAY = 24 * 3600
local WORKING_DAYS = 2
local PHOTO_PRINT_PRICE = 250
local CAKE_CATEGORY = "Sipariş Pasta"

-- The earliest pickup, as the bakery's local time (a ctx.local_time() table).
local function earliest_pickup(ctx)
  -- Work starts now if open, else at the next opening.
  local start = ctx.now()
  if ctx.is_closed(start) then
    local opening = ctx.next_opening(start)
    if not opening then error("business.hours: every day is closed, so no pickup can be given") end
    start = opening.epoch
  end

  -- Count the working days, skipping closed ones; the pickup keeps the start's time of day.
  local pickup, counted = start, 0
  while counted < WORKING_DAYS do
    pickup = pickup + DAY
    if ctx.hours[ctx.local_time(pickup).wday] ~= "closed" then counted = counted + 1 end
  end

  -- Within that day's hours: before opening waits for it, after closing moves to the next one.
  if ctx.is_closed(pickup) then return ctx.next_opening(pickup) end
  return ctx.local_time(pickup)
end

-- The best-matching cake (matches come best first), or nil and the discontinued cake that
-- matched best ("kestaneli" must not quietly become a chocolate cake).
local function find_cake(ctx, query)
  for _, item in ipairs(ctx.catalog.find(query, 10) or {}) do
    if item.category == CAKE_CATEGORY then
      if item.available == false then return nil, item end
      return item, nil
    end
  end
  return nil, nil
end

-- "Çikolatalı Yaş Pasta (kg)" -> "Çikolatalı Yaş Pasta": the weight is said separately.
local function plain_name(name)
  return (string.gsub(name, "%s*%([^()]*kg%)$", ""))
end

local function money(amount, currency)
  if currency == "TRY" then return string.format("%d TL", amount) end
  return string.format("%d %s", amount, currency)
end

local CAKE_TYPES = {
  tr = "çikolatalı, meyveli, frambuazlı beyaz çikolatalı, fıstıklı, vegan çikolatalı",
  en = "chocolate, fruit, raspberry white chocolate, pistachio, vegan chocolate",
}

return tezgah.tool {
  name = "cake_order_quote",
  description = "Price and earliest pickup date of a cake to order (by kg and type). "
    .. "Sipariş pastanın fiyatı ve en erken teslim tarihi.",
  parameters = {
    type = "object",
    properties = {
      kg = { type = "number", minimum = 1, maximum = 15,
             description = "weight in kilograms (1 to 15; rounded to half kilograms)" },
      -- "Turkish question / English question: Turkish examples / English examples": what the
      -- offline assistant asks when the cake is not named.
      type = { type = "string", minLength = 2, maxLength = 80,
               description = "Hangi pasta / Which cake: çikolatalı, meyveli, frambuazlı, fıstıklı, vegan "
                 .. "/ chocolate, fruit, raspberry, pistachio, vegan" },
      photo_print = { type = "boolean",
                      description = "a photo printed on edible paper (+250 TL); fotoğraf baskılı" },
    },
    required = { "kg", "type" },
  },
  -- What customers write when they want this quote (the offline assistant matches them).
  examples = {
    "2 kg çikolatalı pasta ne kadar",
    "3 kiloluk meyveli pasta sipariş vermek istiyorum",
    "doğum günü pastası siparişi, fotoğraflı olsun",
    "pasta siparişi ne zaman teslim alırım",
    "how much is a 3 kg fruit cake",
    "I want to order a 2 kg chocolate cake with a photo print",
    "when can I pick up a cake order",
  },

  run = function(ctx, args)
    local lang = ctx.language == "en" and "en" or "tr"
    local cake, discontinued = find_cake(ctx, args.type)
    if not cake then
      local msg
      if discontinued then
        msg = lang == "en"
          and (plain_name(discontinued.name) .. " is no longer made. Cakes we make to order: " .. CAKE_TYPES.en .. ".")
          or (plain_name(discontinued.name) .. " artık yapılmıyor. Siparişle yaptığımız pastalar: " .. CAKE_TYPES.tr .. ".")
      else
        msg = lang == "en"
          and ("We make no cake called '" .. args.type .. "'. Cakes we make to order: " .. CAKE_TYPES.en .. ".")
          or ("'" .. args.type .. "' adında bir pastamız yok. Siparişle yaptığımız pastalar: " .. CAKE_TYPES.tr .. ".")
      end
      return { found = false, message = msg }
    end

    local kg = math.max(1, math.floor(args.kg * 2 + 0.5) / 2)
    local price = cake.price * kg
    if args.photo_print then price = price + PHOTO_PRINT_PRICE end
    price = math.floor(price + 0.5)
    local deposit = math.floor(price / 2 + 0.5)

    local pickup = earliest_pickup(ctx)
    local date, time = pickup.date, pickup.time
    local day_name = lang == "en" and pickup.day_name_en or pickup.day_name_tr
    local kg_text = (kg == math.floor(kg)) and string.format("%d", math.floor(kg)) or string.format("%.1f", kg)

    local msg
    if lang == "en" then
      msg = string.format("%s kg %s: %s (deposit %s). Earliest pickup: %s %s, %s.",
        kg_text, plain_name(cake.name), money(price, cake.currency), money(deposit, cake.currency),
        day_name, date, time)
    else
      msg = string.format("%s kg %s: %s (kapora %s). En erken teslim: %s %s, saat %s.",
        kg_text, plain_name(cake.name), money(price, cake.currency), money(deposit, cake.currency),
        date, day_name, time)
    end

    return {
      found = true,
      cake = plain_name(cake.name),
      cake_id = cake.id,
      kg = kg,
      price_per_kg = cake.price,
      photo_print = args.photo_print == true,
      price = price,
      deposit = deposit,
      currency = cake.currency,
      pickup_date = date,
      pickup_day = day_name,
      pickup_time = time,
      message = msg,
    }
  end,
}
