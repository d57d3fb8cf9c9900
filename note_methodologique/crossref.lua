-- Rendering without Quarto (credit_scoring/note/render.py): pandoc reads note.qmd as plain markdown, so three
-- things Quarto does must be done here. `@fig-…` and `@tbl-…` are cross-references, not citations: they become
-- Typst references. A `::: {#fig-… layout-ncol=N}` block (Quarto's figure of several images) becomes one Typst
-- figure holding the images on a grid of N columns, with the block's last paragraph as its caption. A
-- `::: {layout="[a,b]"}` block (Quarto's side-by-side layout of any content) becomes a Typst grid whose
-- columns are a and b parts of the line, one block of the div in each. And French typography: the space
-- before « : ; ! ? % » and inside « » becomes a no-break space (narrow before ; ! ? %), also after bold or a
-- cross-reference, where template.typ's rules (one text run at a time) do not reach.

function Cite(cite)
  if #cite.citations == 1 then
    local id = cite.citations[1].id
    if id:match("^fig%-") or id:match("^tbl%-") then
      return pandoc.RawInline("typst", "@" .. id)
    end
  end
end

local function typst_of(inlines)
  return (pandoc.write(pandoc.Pandoc({ pandoc.Plain(inlines) }), "typst"):gsub("%s+$", ""))
end

local function typst_of_blocks(blocks)
  return (pandoc.write(pandoc.Pandoc(blocks), "typst"):gsub("%s+$", ""))
end

local function side_by_side(div)
  local widths = {}
  for w in div.attributes["layout"]:gmatch("[%d%.]+") do
    table.insert(widths, w .. "fr")
  end
  local cells = {}
  for _, block in ipairs(div.content) do
    -- the cross-references inside the cell: the filter has not walked this block yet
    local converted = pandoc.Div({ block }):walk({ Cite = Cite })
    table.insert(cells, "[" .. typst_of_blocks(converted.content) .. "]")
  end
  return pandoc.RawBlock("typst", string.format(
    "#grid(columns: (%s), column-gutter: 1.2em, align: horizon, %s)",
    table.concat(widths, ", "), table.concat(cells, ", ")))
end

function Div(div)
  if div.attributes["layout"] and not div.identifier:match("^fig%-") then
    return side_by_side(div)
  end
  if not div.identifier:match("^fig%-") then
    return nil
  end
  local images, caption = {}, {}
  for _, block in ipairs(div.content) do
    local found = {}
    block:walk({ Image = function(image) table.insert(found, image) end })
    if #found > 0 then
      for _, image in ipairs(found) do
        table.insert(images, string.format('image("%s", width: 100%%)', image.src))
      end
    elseif block.t == "Para" or block.t == "Plain" then
      caption = block.content
    end
  end
  local columns = tonumber(div.attributes["layout-ncol"]) or #images
  return pandoc.RawBlock("typst", string.format(
    "#figure(grid(columns: %d, column-gutter: 1.2em, %s), kind: image, caption: [%s]) <%s>",
    columns, table.concat(images, ", "), typst_of(caption), div.identifier))
end

local NBSP, NARROW = "\u{00A0}", "\u{202F}"

function Inlines(inlines)
  for i = #inlines - 1, 1, -1 do
    local before, after = inlines[i], inlines[i + 1]
    if before.t == "Space" and after.t == "Str" then
      if after.text:match("^:") or after.text:match("^»") then
        inlines[i] = pandoc.Str(NBSP)
      elseif after.text:match("^[;!?%%]") then
        inlines[i] = pandoc.Str(NARROW)
      end
    elseif before.t == "Str" and before.text:match("«$") and after.t == "Space" then
      inlines[i + 1] = pandoc.Str(NBSP)
    end
  end
  return inlines
end
