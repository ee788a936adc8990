-- Lezzet Fırını: cake_order_quote — the price of a cake to order and the earliest pickup.
--
-- Price: the cake's price per kg from the catalog (category "Sipariş Pasta") times the weight,
-- rounded to half kilograms, plus 250 TL for a photo printed on edible paper; half is paid as a
-- deposit. Pickup: a cake takes two full working days. The count starts at the next moment the
-- bakery is open (an order sent at night or on Sunday starts the next morning), the closed day
-- (Sunday) does not count, and the pickup falls within opening hours.
--
-- HOURS mirrors business.hours in tenant.json (a tool cannot read the manifest); keep them equal.
-- Times are computed in Europe/Istanbul, which is UTC+3 all year since 2016.

local UTC_OFFSET = 3 * 3600
local DAY = 24 * 3600
local WORKING_DAYS = 2
local PHOTO_PRINT_PRICE = 250
local CAKE_CATEGORY = "Sipariş Pasta"

local HOURS = {
  mon = { "07:00", "20:00" },
  tue = { "07:00", "20:00" },
  wed = { "07:00", "20:00" },
  thu = { "07:00", "20:00" },
  fri = { "07:00", "20:00" },
  sat = { "07:30", "20:00" },
  sun = nil,  -- closed
}

local DAY_KEYS = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" }  -- os.date wday order
local DAY_NAMES = {
  tr = { sun = "Pazar", mon = "Pazartesi", tue = "Salı", wed = "Çarşamba", thu = "Perşembe",
         fri = "Cuma", sat = "Cumartesi" },
  en = { sun = "Sunday", mon = "Monday", tue = "Tuesday", wed = "Wednesday", thu = "Thursday",
         fri = "Friday", sat = "Saturday" },
}

local function minutes(hhmm)
  local h, m = string.match(hhmm, "^(%d%d):(%d%d)$")
  return tonumber(h) * 60 + tonumber(m)
end

local function hhmm(mins)
  return string.format("%02d:%02d", mins // 60, mins % 60)
end

-- Opening and closing minute of the local day starting at `midnight`, or nil when closed.
local function hours_of(midnight)
  local h = HOURS[DAY_KEYS[os.date("!*t", midnight).wday]]
  if not h then return nil end
  return minutes(h[1]), minutes(h[2])
end

-- The earliest pickup, as (local midnight of the day, minute of the day). `epoch` is UTC.
local function earliest_pickup(epoch)
  local lt = os.date("!*t", epoch + UTC_OFFSET)
  local now_min = lt.hour * 60 + lt.min
  local midnight = epoch + UTC_OFFSET - (lt.hour * 3600 + lt.min * 60 + lt.sec)

  -- Work starts now if open, else at the next opening.
  local start_day, start_min = midnight, now_min
  local open, close = hours_of(start_day)
  if not open or now_min >= close then
    repeat start_day = start_day + DAY until hours_of(start_day)
    start_min = (hours_of(start_day))
  elseif now_min < open then
    start_min = open
  end

  -- Count the working days, skipping closed ones.
  local day, counted = start_day, 0
  while counted < WORKING_DAYS do
    day = day + DAY
    if hours_of(day) then counted = counted + 1 end
  end

  -- Keep the time of day, within that day's hours.
  local o, c = hours_of(day)
  local pickup_min = start_min
  if pickup_min < o then pickup_min = o end
  if pickup_min >= c then
    repeat day = day + DAY until hours_of(day)
    pickup_min = (hours_of(day))
  end
  return day, pickup_min
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
      type = { type = "string", minLength = 2, maxLength = 80,
               description = "the cake, e.g. 'çikolatalı', 'meyveli', 'fıstıklı', 'vegan', 'chocolate'" },
      photo_print = { type = "boolean", description = "a photo printed on edible paper (+250 TL)" },
    },
    required = { "kg", "type" },
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

    local now = ctx.now()
    if type(now) ~= "number" then now = os.time() end
    local day, pickup_min = earliest_pickup(now)
    local date = os.date("!%Y-%m-%d", day)
    local day_name = DAY_NAMES[lang][DAY_KEYS[os.date("!*t", day).wday]]
    local time = hhmm(pickup_min)
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
