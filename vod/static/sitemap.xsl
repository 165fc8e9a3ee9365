<?xml version="1.0" encoding="utf-8"?>
<!-- Shows /sitemap.xml as a page in a browser; crawlers read the XML and ignore this. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:s="http://www.sitemaps.org/schemas/sitemap/0.9"
    xmlns:video="http://www.google.com/schemas/sitemap-video/1.1">
  <xsl:output method="html" encoding="utf-8" indent="yes"/>
  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>Sitemap · vod</title>
        <link rel="stylesheet" href="/static/vod.css"/>
        <link rel="icon" href="/static/favicon.svg" type="image/svg+xml"/>
      </head>
      <body>
        <main id="main">
          <h1>Sitemap</h1>
          <p class="meta">This is the list search engines read:
            <xsl:value-of select="count(s:urlset/s:url)"/> pages,
            <xsl:value-of select="count(s:urlset/s:url/video:video)"/> of them with a recording.</p>
          <ol class="sitemap">
            <xsl:for-each select="s:urlset/s:url">
              <li>
                <a href="{s:loc}"><xsl:value-of select="s:loc"/></a>
                <xsl:if test="video:video">
                  <xsl:text> · </xsl:text><span class="meta">video: <xsl:value-of select="video:video/video:title"/></span>
                </xsl:if>
              </li>
            </xsl:for-each>
          </ol>
        </main>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
