"""The creators' pages on the site: claims of what a partner filed, and lifting it."""
