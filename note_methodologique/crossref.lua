-- Rendering without Quarto (credit_scoring/note_render.py): pandoc reads note.qmd as plain markdown, so two
-- things Quarto does must be done here. `@fig-…` and `@tbl-…` are cross-references, not citations: they become Typst
-- references. A `::: {#fig-… layout-ncol=N}` block (Quarto's figure of several images) becomes one Typst
-- figure holding the images on a grid of N columns, with the block's last paragraph as its caption.

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

function Div(div)
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
