// Swagger UI over this server's /openapi.json. An external file, not an inline script, so
// the page runs under a Content-Security-Policy of 'self' sources; validatorUrl is off so
// that nothing is requested from outside.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
