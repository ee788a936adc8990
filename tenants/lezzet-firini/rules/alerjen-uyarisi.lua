-- Lezzet Fırını: allergen notice.
--
-- Adds a short allergen notice to a reply that mentions a product with nuts (walnut, hazelnut,
-- almond, pistachio), and to the reply to a customer who asked about allergies, gluten or
-- coeliac disease. Everything is baked in one kitchen, so no product is ever promised nut-free.
-- List this rule after the others that append text (e.g. gunun-firsati), so that it sees the
-- final reply.

local NUT_WORDS = {
  -- Turkish, after folding (fıstık -> fistik, fındık -> findik)
  "fistik", "ceviz", "findik", "badem", "baklava", "pralin",
  -- products whose names do not show their nuts
  "vegan cikolatali pasta",
  -- English
  "pistachio", "walnut", "hazelnut", "almond", "peanut", "praline", "vegan chocolate cake",
}

local ALLERGY_WORDS = {
  "alerji", "alerjen", "colyak", "gluten", "fistik alerj",
  "allerg", "celiac", "coeliac", "nut free", "nut-free",
}

local NOTICE = {
  tr = "Alerjen uyarısı: Bu ürün sert kabuklu yemiş içerir veya içerebilir. Tüm ürünlerimiz "
    .. "gluten, süt, yumurta, susam ve sert kabuklu yemiş kullanılan aynı mutfakta üretilir.",
  en = "Allergen notice: this product contains or may contain tree nuts. Everything we make comes "
    .. "from one kitchen that uses gluten, milk, egg, sesame and tree nuts.",
}

local GENERAL_NOTICE = {
  tr = "Alerjen uyarısı: Tüm ürünlerimiz gluten, süt, yumurta, susam ve sert kabuklu yemiş "
    .. "kullanılan aynı mutfakta üretilir; hiçbir ürün için eser miktarda içermez garantisi veremiyoruz.",
  en = "Allergen notice: everything we make comes from one kitchen that uses gluten, milk, egg, "
    .. "sesame and tree nuts, so we cannot guarantee any product to be free of traces.",
}

return tezgah.rule {
  name = "alerjen-uyarisi",

  on_message = function(ctx, msg)
    local session = ctx.session or {}
    session.alerji_soruldu = tezgah.mentions(msg.text, ALLERGY_WORDS)
    return nil
  end,

  on_reply = function(ctx, reply)
    local session = ctx.session or {}
    local asked = session.alerji_soruldu == true
    session.alerji_soruldu = nil

    local folded = tezgah.fold(reply)
    if string.find(folded, "alerjen uyarisi", 1, true) or string.find(folded, "allergen notice", 1, true) then
      return nil  -- already there
    end
    local lang = ctx.language == "en" and "en" or "tr"
    if tezgah.mentions(folded, NUT_WORDS) then
      return reply .. "\n\n" .. NOTICE[lang]
    end
    if asked then
      return reply .. "\n\n" .. GENERAL_NOTICE[lang]
    end
    return nil
  end,
}
