// renderer
