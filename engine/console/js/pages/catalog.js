// Placeholder: the catalog page is being built (issue 13).
import { h, heading } from '../ui.js';

export default {
  id: 'catalog',
  path: '#/catalog',
  nav: 'nav.catalog',
  title: 'catalog',
  scopes: [],
  render(main) {
    main.append(heading('catalog'), h('p', {}, 'Not built yet.'));
  },
};
