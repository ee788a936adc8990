// Placeholder: the analytics page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'analytics',
  path: '#/analytics',
  nav: 'nav.analytics',
  title: 'analytics',
  scopes: [],
  render(main) {
    main.append(heading('analytics'), h('p', {}, 'Not built yet.'));
  },
};
