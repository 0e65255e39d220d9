import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ConsoleEnv } from '../deps';
import type { UiAssets } from '../uiAssets';

/** The single-page app: the same HTML for every page path; hashed asset URLs cached for a year. */
export function registerUiRoutes(app: OpenAPIHono<ConsoleEnv>, ui: UiAssets): void {
  const page = (c: Context) => {
    c.header('Cache-Control', 'no-cache');
    return c.html(ui.html);
  };
  app.get('/', page);
  app.get('/all', page);
  app.get('/freezes', page);
  app.get('/attempts/:attemptId', page);
  // The icon the page links to, and at the path browsers ask for by default (an SVG there too: every current browser takes it).
  const favicon = (c: Context) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(ui.favicon, 200, { 'Content-Type': 'image/svg+xml' });
  };
  app.get('/favicon.svg', favicon);
  app.get('/favicon.ico', favicon);
  app.get(`/assets/app-${ui.version}.js`, (c) => {
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(ui.script, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  app.get(`/assets/app-${ui.version}.css`, (c) => {
    c.header('Cache-Control', 'public, max-age=31536000, immutable');
    return c.body(ui.css, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });
}
