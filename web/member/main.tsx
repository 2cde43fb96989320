import { unstableSetRender } from 'antd-mobile';
import { StrictMode } from 'react';
import { createRoot, type Root } from 'react-dom/client';
import { resourcesFrom, setupI18n } from '../shared/i18n.ts';
import { App } from './app.tsx';
import { captureTokenFromUrl, session } from './session.ts';
import './member.css';

// Strings: shared/locales (common), locales/ (member) and routes/<area>/locales (<area>).
const files = import.meta.glob<Record<string, unknown>>(['../shared/locales/*.json', './locales/*.json', './routes/*/locales/*.json'], {
  eager: true,
  import: 'default',
});
// ./locales/ is the member centre's own namespace, `member` (resourcesFrom names a namespace by its folder)
const named = Object.fromEntries(Object.entries(files).map(([path, strings]) => [path.replace(/^\.\/locales\//, 'member/locales/'), strings]));

// antd-mobile 5 renders Toast and Dialog with ReactDOM.render, gone in React 19: give it createRoot
// (https://mobile.ant.design/guide/v5-for-19)
unstableSetRender((node, container) => {
  const host = container as (Element | DocumentFragment) & { _jifenRoot?: Root };
  host._jifenRoot ??= createRoot(host);
  const root = host._jifenRoot;
  root.render(node);
  return async () => {
    await new Promise((resolve) => setTimeout(resolve, 0));
    root.unmount();
    delete host._jifenRoot;
  };
});

// a token in the URL (from the merchant's app) starts a session and leaves the address bar
captureTokenFromUrl();
session.reload();
// …also when the page is open already and only the fragment changes (a new link in the same tab)
window.addEventListener('hashchange', () => {
  if (!/[#&]token=/.test(window.location.hash)) return;
  captureTokenFromUrl();
  session.reload();
});

await setupI18n(resourcesFrom(named));
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
